"""Issue 24: doubtful items are marked, the customer's choice re-bills the receipt, staff confirm a crop of the
stored tray photo into the gallery, and the next checkout recognises the product from it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.postgres import DATABASES
from trayscan.catalog.models import utcnow
from trayscan.config import Settings

from ..builders import GREEN, ORANGE, PURPLE, encode, tray
from ..conftest import ADMIN, COLA, LEMONADE, create_product, make_settings
from ..fakes import BlobDetector, HistogramEmbedder

pytestmark = pytest.mark.parametrize("database", DATABASES, indirect=True)

TEA = (PURPLE, ORANGE)  # not enrolled: unrecognized until staff confirm it
COLA_BOX, TEA_BOX = (20, 20, 140, 160), (300, 200, 420, 340)


def checkout(client: TestClient, image: np.ndarray) -> dict:
    response = client.post("/v1/checkout", files={"image": ("t.png", encode(image), "image/png")})
    assert response.status_code == 200, response.text
    return response.json()


def correct(client: TestClient, receipt_id: str, **body: object):
    return client.post(f"/v1/receipts/{receipt_id}/corrections", json=body)


def unknown_item(receipt: dict) -> int:
    [item] = receipt["unrecognized"]
    return int(item["item"])


def test_items_are_numbered_and_marked_with_the_photo_kept(stocked: TestClient, settings: Settings) -> None:
    receipt = checkout(stocked, tray([(COLA, COLA_BOX), (TEA, TEA_BOX)]))
    [cola] = receipt["items"]
    detection = cola["detections"][0]
    assert detection["certainty"] == "sure" and detection["candidates"][0]["sku"] == "COLA"
    assert len(detection["candidates"]) == 2  # every enrolled SKU, best first (at most 3)
    tea = receipt["unrecognized"][0]
    assert {detection["item"], tea["item"]} == {0, 1} and tea["candidates"] and not tea["staff_requested"]
    assert receipt["photo_kept"] is True
    assert [p.name for p in settings.receipt_photo_dir.iterdir()] == [f"{receipt['receipt_id']}.png"]


def test_a_choice_rebills_the_receipt_and_is_kept(stocked: TestClient) -> None:
    receipt = checkout(stocked, tray([(COLA, COLA_BOX), (TEA, TEA_BOX)]))
    item = unknown_item(receipt)
    response = correct(stocked, receipt["receipt_id"], item=item, sku="LEMONADE")
    assert response.status_code == 200, response.text
    corrected = response.json()
    assert {line["sku"]: line["quantity"] for line in corrected["items"]} == {"COLA": 1, "LEMONADE": 1}
    lemonade = next(line for line in corrected["items"] if line["sku"] == "LEMONADE")
    assert lemonade["unit_price"] == "2.25" and lemonade["detections"][0]["certainty"] == "corrected"
    assert corrected["total"] == "5.75" and corrected["item_count"] == 2 and corrected["unrecognized"] == []
    assert stocked.get(f"/v1/receipts/{receipt['receipt_id']}").json() == corrected
    # the same answer again changes nothing; a call for staff instead moves it back, flagged
    assert correct(stocked, receipt["receipt_id"], item=item, sku="LEMONADE").json() == corrected
    staff = correct(stocked, receipt["receipt_id"], item=item, staff=True).json()
    assert staff["total"] == "3.50" and staff["unrecognized"][0]["staff_requested"] is True


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"item": 99, "sku": "COLA"}, 404, "item_not_found"),
        ({"item": 1, "sku": "NOPE"}, 404, "product_not_found"),
        ({"item": 1}, 422, "validation_error"),
        ({"item": 1, "sku": "COLA", "staff": True}, 422, "validation_error"),
        ({"item": 1, "staff": False}, 422, "validation_error"),
        ({"item": -1, "sku": "COLA"}, 422, "validation_error"),
    ],
)
def test_a_bad_correction_is_refused_and_changes_nothing(
    stocked: TestClient, body: dict, status: int, code: str
) -> None:
    receipt = checkout(stocked, tray([(COLA, COLA_BOX), (TEA, TEA_BOX)]))
    response = correct(stocked, receipt["receipt_id"], **body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert stocked.get(f"/v1/receipts/{receipt['receipt_id']}").json() == receipt
    assert correct(stocked, "f" * 32, item=0, sku="COLA").status_code == 404


def test_staff_confirm_a_crop_and_the_next_checkout_recognises_it(stocked: TestClient) -> None:
    create_product(stocked, "TEA", "4.20")  # a product enrolled from the kiosk: placed alone on the tray
    receipt = checkout(stocked, tray([(TEA, TEA_BOX)]))
    assert receipt["items"] == [] and len(receipt["unrecognized"]) == 1
    queue = stocked.get("/v1/admin/review", headers=ADMIN).json()
    [entry] = queue["data"]
    assert (entry["receipt_id"], entry["reason"], entry["photo_kept"]) == (receipt["receipt_id"], "unrecognized", True)
    crop = stocked.get(entry["crop_url"], headers=ADMIN)
    assert crop.status_code == 200 and crop.headers["content-type"] == "image/jpeg"

    url = f"/v1/admin/receipts/{receipt['receipt_id']}/items/{entry['item']}/review"
    response = stocked.post(url, json={"outcome": "confirmed", "sku": "TEA"}, headers=ADMIN)
    assert response.status_code == 201, response.text
    review = response.json()
    assert review["outcome"] == "confirmed" and review["image_id"] is not None
    [image] = stocked.get("/v1/admin/products/TEA/images", headers=ADMIN).json()["data"]
    assert (image["id"], image["source"], image["receipt_id"]) == (review["image_id"], "tray", receipt["receipt_id"])
    # a checkout photo is the kiosk camera's: the item's size in it is kept for the size check
    (x1, y1, x2, y2), (width, height) = TEA_BOX, (640, 480)
    assert image["kiosk_size"] == pytest.approx(((x2 - x1) * (y2 - y1)) ** 0.5 / max(width, height), abs=1e-3)
    assert stocked.get("/v1/admin/review", headers=ADMIN).json()["count"] == 0  # reviewed: off the queue

    again = checkout(stocked, tray([(TEA, (300, 20, 420, 160)), (COLA, COLA_BOX)]))
    assert {line["sku"]: line["quantity"] for line in again["items"]} == {"TEA": 1, "COLA": 1}
    assert again["total"] == "7.70"
    # a tray crop is a gallery image like any other: it can be removed
    assert stocked.delete(f"/v1/admin/images/{review['image_id']}", headers=ADMIN).status_code == 200


def test_a_crop_that_would_make_two_skus_confusable_is_refused(stocked: TestClient) -> None:
    receipt = checkout(stocked, tray([(COLA, COLA_BOX)]))
    item = receipt["items"][0]["detections"][0]["item"]
    correct(stocked, receipt["receipt_id"], item=item, sku="LEMONADE")  # a wrong choice by the customer
    url = f"/v1/admin/receipts/{receipt['receipt_id']}/items/{item}/review"
    response = stocked.post(url, json={"outcome": "confirmed", "sku": "LEMONADE"}, headers=ADMIN)
    assert response.status_code == 409
    assert response.json()["code"] == "confusable_crop" and "COLA" in response.json()["detail"]
    assert stocked.get("/v1/products/LEMONADE").json()["image_count"] == 2  # nothing added
    # fixing the SKU confirms it; "not a product" and "dismissed" add nothing
    fixed = stocked.post(url, json={"outcome": "confirmed", "sku": "COLA"}, headers=ADMIN)
    assert fixed.status_code == 201 and stocked.get("/v1/products/COLA").json()["image_count"] == 3


def test_not_a_product_is_recorded_and_adds_nothing(stocked: TestClient) -> None:
    receipt = checkout(stocked, tray([(COLA, COLA_BOX), ((GREEN, GREEN), TEA_BOX)]))
    url = f"/v1/admin/receipts/{receipt['receipt_id']}/items/{unknown_item(receipt)}/review"
    bad = stocked.post(url, json={"outcome": "not_product", "sku": "COLA"}, headers=ADMIN)
    assert bad.status_code == 422
    response = stocked.post(url, json={"outcome": "not_product"}, headers=ADMIN)
    assert response.status_code == 201 and response.json()["image_id"] is None
    assert stocked.get("/readyz").json()["gallery_size"] == 4
    assert stocked.get("/v1/admin/review", headers=ADMIN).json()["count"] == 0


def test_thumbnails_of_candidates(stocked: TestClient) -> None:
    response = stocked.get("/v1/products/COLA/thumbnail")
    assert response.status_code == 200 and response.content[:2] == b"\xff\xd8"
    create_product(stocked, "BARE")
    assert stocked.get("/v1/products/BARE/thumbnail").json()["code"] == "image_not_found"
    assert stocked.get("/v1/products/NOPE/thumbnail").status_code == 404


def test_photos_can_be_off_and_expire(tmp_path: Path, database: str | None) -> None:
    from trayscan.api import create_app

    from ..conftest import enrol

    off = make_settings(tmp_path / "off", database_url=database, feedback={"keep_photos": False})
    with TestClient(create_app(off, detector=BlobDetector(), embedder=HistogramEmbedder())) as client:
        create_product(client, "COLA")
        enrol(client, "COLA", COLA)
        receipt = checkout(client, tray([(COLA, COLA_BOX), (LEMONADE, TEA_BOX)]))
        assert receipt["photo_kept"] is False and not off.receipt_photo_dir.exists()
        url = f"/v1/admin/receipts/{receipt['receipt_id']}/items/{unknown_item(receipt)}/review"
        response = client.post(url, json={"outcome": "confirmed", "sku": "COLA"}, headers=ADMIN)
        assert (response.status_code, response.json()["code"]) == (409, "photo_not_kept")

    kept = make_settings(tmp_path / "kept", database_url=database)
    with TestClient(create_app(kept, detector=BlobDetector(), embedder=HistogramEmbedder())) as client:
        create_product(client, "COKE")  # one database for both apps on PostgreSQL
        enrol(client, "COKE", COLA)
        receipt = checkout(client, tray([(COLA, COLA_BOX)]))
        (kept.receipt_photo_dir / "orphan.png.tmp").write_bytes(b"half")  # a crash mid-write
        feedback = client.app.state.services.feedback
        assert feedback.purge_photos(utcnow() + timedelta(days=29)) == 1  # the orphan only
        assert feedback.purge_photos(utcnow() + timedelta(days=31)) == 1  # the receipt's photo expired
        assert list(kept.receipt_photo_dir.iterdir()) == []
        assert client.get(f"/v1/receipts/{receipt['receipt_id']}").status_code == 200  # the receipt stays
