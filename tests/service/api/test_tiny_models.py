"""The app wired to real engines: the tiny ONNX fixtures of tests/inference, loaded through `load_models`."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from trayscan.api import create_app

from ..builders import encode, product_photo, tray
from ..conftest import ADMIN, COLA, create_product, make_settings

FIXTURES = Path(__file__).resolve().parents[2] / "inference" / "fixtures"


def test_real_engines_serve_enrolment_and_checkout(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        models={"detector_dir": FIXTURES / "tiny_detector", "embedder_dir": FIXTURES / "tiny_embedder"},
        gallery={"dim": 16},
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").status_code == 200
        create_product(client, "COLA")
        files = [("images", ("cola.png", encode(product_photo(COLA)), "image/png"))]
        enrolment = client.post("/v1/admin/products/COLA/images", files=files, headers=ADMIN)
        assert enrolment.status_code == 201 and enrolment.json()["enrolled"] == 1

        response = client.post(
            "/v1/checkout",
            files={"image": ("t.png", encode(tray([(COLA, (20, 20, 140, 160))])), "image/png")},
        )
        assert response.status_code == 200
        receipt = response.json()
        assert receipt["item_count"] + len(receipt["unrecognized"]) >= 1
        assert receipt["gallery_version"] == enrolment.json()["gallery_version"]
        assert client.get(f"/v1/receipts/{receipt['receipt_id']}").json() == receipt


def test_embedder_of_another_dimension_is_not_ready(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        models={"detector_dir": FIXTURES / "tiny_detector", "embedder_dir": FIXTURES / "tiny_embedder"},
    )
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert (
        ready.json()["reason"] == "RuntimeError: embedder tiny_embedder+rot4 gives 16-d features, gallery is 512-d"
    )
