"""Request limits at the edge: the largest accepted input passes, one more is refused before decoding."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from trayscan.api import create_app
from trayscan.api.body_limit import FORM_OVERHEAD, PART_OVERHEAD

from ..builders import encode, product_photo
from ..conftest import ADMIN, COLA, create_product, make_settings
from ..fakes import BlobDetector, HistogramEmbedder

MAX_BYTES = 4096
MAX_PIXELS = 200 * 100


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, limits={"max_upload_bytes": MAX_BYTES, "max_pixels": MAX_PIXELS})
    with TestClient(create_app(settings, detector=BlobDetector(), embedder=HistogramEmbedder())) as client:
        create_product(client, "COLA")
        photo = encode(product_photo(COLA, box=(20, 10, 60, 50), size=(80, 60)))
        files = [("images", ("cola.png", photo, "image/png"))]
        assert client.post("/v1/admin/products/COLA/images", files=files, headers=ADMIN).status_code == 201
        yield client


def post(client: TestClient, data: bytes):
    return client.post("/v1/checkout", files={"image": ("t.png", data, "image/png")})


def noise_png(size: int) -> bytes:
    """A PNG of exactly `size` bytes (random pixels do not compress; a trailing chunk pads)."""
    rng = np.random.default_rng(0)
    data = encode(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8))
    assert len(data) <= size
    return data + b"\0" * (size - len(data))


def test_image_at_the_byte_limit_is_accepted(limited: TestClient) -> None:
    assert post(limited, noise_png(MAX_BYTES)).status_code == 200


def test_image_over_the_byte_limit_is_413(limited: TestClient) -> None:
    response = post(limited, noise_png(MAX_BYTES + 1))
    assert response.status_code == 413
    assert response.json() == {
        "code": "image_too_large",
        "detail": f"t.png is over the limit of {MAX_BYTES} bytes",
    }


def test_image_at_the_pixel_limit_is_accepted(limited: TestClient) -> None:
    assert post(limited, encode(np.full((100, 200, 3), 255, np.uint8))).status_code == 200


def test_image_over_the_pixel_limit_is_413(limited: TestClient) -> None:
    response = post(limited, encode(np.full((101, 200, 3), 255, np.uint8)))
    assert response.status_code == 413
    assert response.json() == {
        "code": "image_too_large",
        "detail": f"image is 200x101 = 20200 pixels, over the limit of {MAX_PIXELS} pixels",
    }


def test_request_body_over_the_limit_is_413_before_parsing(limited: TestClient) -> None:
    body_limit = MAX_BYTES + PART_OVERHEAD + FORM_OVERHEAD  # the checkout's: one image
    response = limited.post(
        "/v1/checkout",
        content=b"x" * (body_limit + 1),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 413
    assert response.json() == {
        "code": "request_too_large",
        "detail": f"request body is {body_limit + 1} bytes, over the limit of {body_limit}",
    }
