"""The text check through the service: enrolment reads each photo's printed text and the catalog keeps it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest
from fastapi.testclient import TestClient

from trayscan.api import create_app
from trayscan.catalog import Catalog
from trayscan.pipeline.text_check import words

from ..builders import encode, product_photo, tray
from ..conftest import ADMIN, LEMONADE, create_product, enrol, make_settings
from ..fakes import BlobDetector, HistogramEmbedder


def labelled_photo(word: str):
    photo = product_photo(LEMONADE, box=(30, 40, 290, 200))
    cv2.putText(photo, word, (45, 105), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (20, 20, 20), 4, cv2.LINE_AA)
    return photo


@pytest.fixture
def reading_client(tmp_path: Path, detector: BlobDetector, embedder: HistogramEmbedder) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, pipeline={"text_check": {"enabled": True}})
    catalog = Catalog.open(settings.sqlalchemy_url)
    with TestClient(create_app(settings, detector=detector, embedder=embedder, catalog=catalog)) as client:
        yield client
    catalog.close()


def test_enrolment_keeps_the_text_read_on_each_photo(reading_client: TestClient) -> None:
    create_product(reading_client, "LEMON-330", name="Sunny Lemon 330ml")
    files = [("images", ("lemon.png", encode(labelled_photo("LEMON 330ml")), "image/png"))]
    response = reading_client.post("/v1/admin/products/LEMON-330/images", files=files, headers=ADMIN)
    assert response.status_code == 201, response.text
    images = reading_client.get("/v1/admin/products/LEMON-330/images", headers=ADMIN).json()["data"]
    assert "lemon" in words(images[0]["printed_text"])


def test_nothing_is_read_while_the_check_is_off(client: TestClient) -> None:
    create_product(client, "LEMON-330")
    files = [("images", ("lemon.png", encode(labelled_photo("LEMON 330ml")), "image/png"))]
    assert client.post("/v1/admin/products/LEMON-330/images", files=files, headers=ADMIN).status_code == 201
    images = client.get("/v1/admin/products/LEMON-330/images", headers=ADMIN).json()["data"]
    assert images[0]["printed_text"] is None


class SayingReader:
    """Reads the same words on every crop, and counts the crops it was given."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.crops = 0

    def read(self, image_bgr) -> str:
        self.crops += 1
        return self.text


def billed(client: TestClient, image: bytes) -> dict[str, int]:
    response = client.post("/v1/checkout", files={"image": ("tray.png", image, "image/png")})
    assert response.status_code == 200, response.text
    return {item["sku"]: item["quantity"] for item in response.json()["items"]}


def test_a_word_read_on_the_tray_decides_between_siblings(reading_client: TestClient) -> None:
    create_product(reading_client, "CHERRY", name="Sunny Cherry 125g")
    create_product(reading_client, "LEMON", name="Sunny Lemon 125g")
    enrol(reading_client, "CHERRY", LEMONADE, photos=2)  # one design for both: only the words differ
    enrol(reading_client, "LEMON", LEMONADE, photos=1)
    items = [(LEMONADE, (20.0, 20.0, 140.0, 160.0)), (LEMONADE, (300.0, 60.0, 420.0, 200.0))]
    image = encode(tray(items))
    assert billed(reading_client, image) == {"LEMON": 2}  # the embedding's answer: the blank packs show no words
    stages = reading_client.app.state.services.recognizer.stages
    stages.reader = SayingReader("SUNNY CHERRY 125 g")
    stages.settings.text_check.max_crops = 1  # one crop of the tray read, the best box
    assert billed(reading_client, image) == {"CHERRY": 1, "LEMON": 1}
    assert stages.reader.crops == 1
