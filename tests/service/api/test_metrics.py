"""GET /metrics: request counts and latency per route template and status, error codes, pipeline stages,
enrolments and the gallery, in the Prometheus text format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from trayscan.api import create_app

from ..builders import encode, tray
from ..conftest import ADMIN, COLA, LEMONADE, make_settings
from ..fakes import BlobDetector, HistogramEmbedder


def samples(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(found: dict, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def test_requests_stages_enrolments_and_gallery(stocked: TestClient) -> None:
    image = tray([(COLA, (20, 20, 140, 160)), (LEMONADE, (200, 20, 320, 160))])
    assert stocked.post("/v1/checkout", files={"image": ("t.png", encode(image), "image/png")}).status_code == 200
    assert stocked.get("/v1/products/NOPE").status_code == 404
    assert stocked.get("/v1/products/COLA").status_code == 200
    assert stocked.get("/no/such/page").status_code == 404
    readiness = stocked.get("/readyz").json()
    found = samples(stocked)

    requests = "trayscan_http_requests_total"
    assert value(found, requests, method="POST", route="/v1/checkout", status="200") == 1
    assert value(found, requests, method="POST", route="/v1/admin/products/{sku}/images", status="201") == 2
    # one series per route template, not per SKU
    assert value(found, requests, method="GET", route="/v1/products/{sku}", status="404") == 1
    assert value(found, requests, method="GET", route="/v1/products/{sku}", status="200") == 1
    assert value(found, requests, method="GET", route="unmatched", status="404") == 1
    assert not any("NOPE" in str(labels) for _, labels in found)
    assert value(found, "trayscan_http_request_duration_seconds_count", method="POST", route="/v1/checkout") == 1

    errors = "trayscan_http_errors_total"
    assert value(found, errors, route="/v1/products/{sku}", status="404", code="product_not_found") == 1
    assert value(found, errors, route="unmatched", status="404", code="not_found") == 1

    for stage in ("decode", "detect", "embed", "search", "total"):
        assert value(found, "trayscan_stage_duration_seconds_count", stage=stage) == 1, stage
    assert value(found, "trayscan_stage_duration_seconds_sum", stage="total") > 0
    assert value(found, "trayscan_checkout_items_total", recognized="true") == 2

    assert value(found, "trayscan_enrolled_images_total") == 4  # 2 products x 2 photos
    assert value(found, "trayscan_gallery_vectors") == readiness["gallery_size"] == 4
    assert value(found, "trayscan_gallery_version") == readiness["gallery_version"]
    assert value(found, "trayscan_gallery_deleted_vectors") == 0

    assert stocked.delete("/v1/admin/products/LEMONADE", headers=ADMIN).status_code == 200
    after = samples(stocked)
    assert value(after, "trayscan_gallery_vectors") == 2
    assert value(after, "trayscan_gallery_deleted_vectors") == 2
    assert value(after, "trayscan_gallery_version") > readiness["gallery_version"]


def test_bad_uploads_are_counted_by_error_code(client: TestClient) -> None:
    response = client.post("/v1/checkout", files={"image": ("t.png", b"not an image", "image/png")})
    assert response.status_code in (415, 422)
    code = response.json()["code"]
    found = samples(client)
    status = str(response.status_code)
    assert value(found, "trayscan_http_errors_total", route="/v1/checkout", status=status, code=code) == 1


class BrokenDetector(BlobDetector):
    def detect(self, image: np.ndarray):  # type: ignore[no-untyped-def]
        raise RuntimeError("detector crashed")


def test_an_escaped_exception_counts_as_internal_error(tmp_path: Path, embedder: HistogramEmbedder) -> None:
    app = create_app(make_settings(tmp_path), detector=BrokenDetector(), embedder=embedder)
    with TestClient(app, raise_server_exceptions=False) as client:
        services = app.state.services
        services.gallery.add(np.eye(1, embedder.dim, dtype=np.float32), [1])  # not empty: the detector runs
        image = tray([(COLA, (20, 20, 140, 160))])
        response = client.post("/v1/checkout", files={"image": ("t.png", encode(image), "image/png")})
        assert response.status_code == 500
        found = samples(client)
    labels = {"route": "/v1/checkout", "status": "500", "code": "internal_error"}
    assert value(found, "trayscan_http_errors_total", **labels) == 1
    assert value(found, "trayscan_http_requests_total", method="POST", route="/v1/checkout", status="500") == 1


def test_gallery_series_are_absent_while_starting(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    client = TestClient(app)  # not entered: the lifespan has not run, nothing is loaded
    assert client.get("/readyz").status_code == 503
    found = samples(client)
    assert not any(name.startswith("trayscan_gallery_") for name, _ in found)
    assert value(found, "trayscan_http_requests_total", method="GET", route="/readyz", status="503") == 1
