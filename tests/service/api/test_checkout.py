from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.postgres import DATABASES
from trayscan.config import Settings

from ..builders import ORANGE, PURPLE, canvas, encode, sibling_labels, tray, turned_photo
from ..conftest import ADMIN, COLA, LEMONADE, create_product
from ..fakes import BlobDetector

pytestmark = pytest.mark.parametrize("database", DATABASES, indirect=True)


def checkout(client: TestClient, image_bytes: bytes, content_type: str = "image/png"):
    return client.post("/v1/checkout", files={"image": ("tray.png", image_bytes, content_type)})


def lines(receipt: dict) -> dict[str, int]:
    return {item["sku"]: item["quantity"] for item in receipt["items"]}


def test_receipt_counts_items_and_prices_them(stocked: TestClient) -> None:
    image = tray([(COLA, (20, 20, 140, 160)), (LEMONADE, (200, 20, 320, 160)), (COLA, (400, 200, 520, 340))])
    response = checkout(stocked, encode(image))
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert lines(receipt) == {"COLA": 2, "LEMONADE": 1}
    cola = next(item for item in receipt["items"] if item["sku"] == "COLA")
    assert (cola["unit_price"], cola["line_total"], cola["name"]) == ("3.50", "7.00", "Cola")
    assert receipt["total"] == "9.25" and receipt["currency"] == "CNY" and receipt["item_count"] == 3
    assert len(cola["detections"]) == 2 and all(d["similarity"] > 0.9 for d in cola["detections"])
    assert receipt["unrecognized"] == []
    assert set(receipt["timings_ms"]) >= {"decode", "detect", "embed", "search", "total"}
    assert receipt["gallery_version"] >= 2


def test_a_large_jpeg_is_decoded_reduced_with_boxes_in_its_own_pixels(
    stocked: TestClient, detector: BlobDetector
) -> None:
    # 3400x2000: its long side stays >= 1600 (limits.checkout_decode_long_side) at half size, not at a quarter.
    image = tray([(COLA, (800, 400, 1280, 960)), (LEMONADE, (2000, 800, 2600, 1500))], size=(3400, 2000))
    detector.shapes.clear()
    response = checkout(stocked, encode(image, "JPEG", quality=95), "image/jpeg")
    assert response.status_code == 200, response.text
    assert detector.shapes == [(1000, 1700, 3)]
    receipt = response.json()
    assert lines(receipt) == {"COLA": 1, "LEMONADE": 1}
    boxes = {item["sku"]: item["detections"][0]["box"] for item in receipt["items"]}
    assert boxes["COLA"] == pytest.approx([800, 400, 1280, 960], abs=4)
    assert boxes["LEMONADE"] == pytest.approx([2000, 800, 2600, 1500], abs=4)


def test_a_png_or_a_small_jpeg_is_decoded_at_full_size(stocked: TestClient, detector: BlobDetector) -> None:
    large = tray([(COLA, (800, 400, 1280, 960))], size=(3400, 2000))
    small = tray([(COLA, (20, 20, 140, 160))])
    detector.shapes.clear()
    for data, kind in ((encode(large), "image/png"), (encode(small, "JPEG", quality=95), "image/jpeg")):
        assert checkout(stocked, data, kind).status_code == 200
    assert detector.shapes == [(2000, 3400, 3), (480, 640, 3)]


def test_embeds_all_crops_of_a_tray_in_one_batch(stocked: TestClient, embedder) -> None:
    image = tray([(COLA, (20, 20, 140, 160)), (LEMONADE, (200, 20, 320, 160)), (COLA, (400, 200, 520, 340))])
    embedder.batches.clear()
    assert checkout(stocked, encode(image)).status_code == 200
    assert embedder.batches == [3]


def test_two_touching_identical_items_count_as_two(stocked: TestClient, detector: BlobDetector) -> None:
    boxes = [(100.0, 100.0, 220.0, 240.0), (220.0, 100.0, 340.0, 240.0)]  # share an edge
    image = tray([(COLA, box) for box in boxes])
    detector.register(image, boxes)
    receipt = checkout(stocked, encode(image)).json()
    assert lines(receipt) == {"COLA": 2}
    assert receipt["total"] == "7.00"


def test_duplicate_boxes_of_one_item_count_once(stocked: TestClient, detector: BlobDetector) -> None:
    image = tray([(COLA, (100, 100, 220, 240))])
    detector.register(image, [(100.0, 100.0, 220.0, 240.0), (104.0, 104.0, 218.0, 236.0)])
    assert lines(checkout(stocked, encode(image)).json()) == {"COLA": 1}


def test_a_box_around_two_items_is_not_a_third_item(stocked: TestClient, detector: BlobDetector) -> None:
    boxes = [(100.0, 100.0, 220.0, 240.0), (220.0, 100.0, 340.0, 240.0)]
    image = tray([(COLA, boxes[0]), (LEMONADE, boxes[1])])
    detector.register(image, [*boxes, (96.0, 96.0, 344.0, 244.0)])  # the group box scores like the others
    receipt = checkout(stocked, encode(image)).json()
    assert lines(receipt) == {"COLA": 1, "LEMONADE": 1} and receipt["unrecognized"] == []


def test_a_weak_box_is_an_item_only_when_it_is_recognized(stocked: TestClient, detector: BlobDetector) -> None:
    boxes = [(20.0, 20.0, 140.0, 160.0), (300.0, 200.0, 420.0, 340.0), (450.0, 20.0, 570.0, 160.0)]
    image = tray([(COLA, boxes[0]), ((PURPLE, ORANGE), boxes[1]), (LEMONADE, boxes[2])])
    # Under the detection threshold (0.5): a known product at weak_detection_threshold (0.3) or over is an item, an
    # unknown design there is noise (not even unrecognized), a known product under it is not looked at.
    detector.register(image, boxes, scores=[0.3, 0.3, 0.2])
    receipt = checkout(stocked, encode(image)).json()
    assert lines(receipt) == {"COLA": 1} and receipt["unrecognized"] == []
    assert receipt["items"][0]["detections"][0]["score"] == pytest.approx(0.3)


def test_unknown_item_is_kept_as_unrecognized_with_best_guess(stocked: TestClient) -> None:
    image = tray([(COLA, (20, 20, 140, 160)), ((PURPLE, ORANGE), (300, 200, 420, 340))])
    receipt = checkout(stocked, encode(image)).json()
    assert lines(receipt) == {"COLA": 1}
    [unknown] = receipt["unrecognized"]
    assert unknown["box"] == [300.0, 200.0, 420.0, 340.0]
    assert unknown["best_guess"]["sku"] in {"COLA", "LEMONADE"}
    assert unknown["best_guess"]["similarity"] < 0.8


def test_empty_tray_gives_an_empty_receipt(stocked: TestClient) -> None:
    receipt = checkout(stocked, encode(tray([]))).json()
    assert (receipt["items"], receipt["total"], receipt["item_count"]) == ([], "0.00", 0)


def test_receipt_is_stored(stocked: TestClient) -> None:
    receipt = checkout(stocked, encode(tray([(LEMONADE, (20, 20, 140, 160))]))).json()
    stored = stocked.get(f"/v1/receipts/{receipt['receipt_id']}")
    assert stored.status_code == 200
    assert stored.json() == receipt


def test_unknown_receipt_is_404(stocked: TestClient) -> None:
    response = stocked.get("/v1/receipts/nope")
    assert response.status_code == 404
    assert response.json() == {"code": "receipt_not_found", "detail": "unknown receipt 'nope'"}


def test_price_change_applies_to_the_next_checkout(stocked: TestClient) -> None:
    assert stocked.patch("/v1/admin/products/COLA", json={"price": "4.05"}, headers=ADMIN).status_code == 200
    receipt = checkout(
        stocked, encode(tray([(COLA, (20, 20, 140, 160)), (COLA, (300, 20, 420, 160))]))
    ).json()
    assert receipt["total"] == "8.10"
    assert Decimal(receipt["items"][0]["unit_price"]) == Decimal("4.05")


def test_inactive_product_is_not_recognised(stocked: TestClient) -> None:
    assert (
        stocked.patch("/v1/admin/products/COLA", json={"active": False}, headers=ADMIN).json()["active"]
        is False
    )
    receipt = checkout(stocked, encode(tray([(COLA, (20, 20, 140, 160))]))).json()
    assert receipt["items"] == [] and len(receipt["unrecognized"]) == 1


# bad input


def test_not_an_image_is_415(stocked: TestClient) -> None:
    response = checkout(stocked, b"hello, this is text", "text/plain")
    assert response.status_code == 415
    assert response.json() == {
        "code": "unsupported_image",
        "detail": "not an image: expected JPEG, PNG or WebP",
    }


def test_unsupported_format_is_415(stocked: TestClient) -> None:
    response = checkout(stocked, encode(tray([]), "BMP"), "image/bmp")
    assert response.status_code == 415
    assert response.json()["detail"] == "unsupported image format BMP: expected JPEG, PNG or WebP"


def test_empty_upload_is_415(stocked: TestClient) -> None:
    response = checkout(stocked, b"")
    assert response.status_code == 415
    assert response.json() == {"code": "unsupported_image", "detail": "the upload is empty"}


def test_truncated_image_is_422(stocked: TestClient) -> None:
    data = encode(tray([(COLA, (20, 20, 140, 160))]), "JPEG", quality=90)
    response = checkout(stocked, data[: len(data) // 2], "image/jpeg")
    assert response.status_code == 422
    assert response.json()["code"] == "corrupt_image"
    assert response.json()["detail"].startswith("corrupt JPEG image:")


def test_missing_image_field_is_422(stocked: TestClient) -> None:
    response = stocked.post("/v1/checkout", files={"photo": ("t.png", b"x", "image/png")})
    assert response.status_code == 422
    assert response.json() == {"code": "validation_error", "detail": "image: Field required"}


def test_no_gallery_yet_is_503(client: TestClient) -> None:
    response = checkout(client, encode(tray([])))
    assert response.status_code == 503
    assert response.json() == {
        "code": "gallery_empty",
        "detail": "the gallery is empty: enrol products before checkout",
    }


def paste(image: np.ndarray, item: np.ndarray, left: int, top: int) -> tuple[float, float, float, float]:
    image[top:top + item.shape[0], left:left + item.shape[1]] = item
    return (float(left), float(top), float(left + item.shape[1]), float(top + item.shape[0]))


def test_sibling_pack_sizes_are_told_apart_by_their_print(
    client: TestClient, detector: BlobDetector, settings: Settings
) -> None:
    """Two pack sizes of one design, told apart only by their "70g" / "150g" print. TS0068 has four enrolment
    photos, TS0070 one: the embedding's vote among the nearest photos goes to TS0068 for both (the fake embedder
    sees the same colours); the sibling check reads the print against the stored photos."""
    labels = sibling_labels()
    for sku, angles in (("TS0068", (4, -6, 10, -12)), ("TS0070", (4,))):
        create_product(client, sku)
        photos = []
        for angle in angles:
            photo = canvas(480, 400)
            paste(photo, turned_photo(labels[sku], angle=angle, scale=1.0, gain=1.0), 60, 60)
            photos.append(("images", (f"{angle}.png", encode(photo), "image/png")))
        response = client.post(f"/v1/admin/products/{sku}/images", files=photos, headers=ADMIN)
        assert response.status_code == 201, response.text
    for sku in ("TS0070", "TS0068"):
        image = canvas(640, 480)
        box = paste(image, turned_photo(labels[sku], angle=150, scale=0.8, gain=1.0), 150, 80)
        detector.register(image, [box])
        receipt = checkout(client, encode(image)).json()
        assert lines(receipt) == {sku: 1}, receipt
        assert "siblings" in receipt["timings_ms"]
    # The views the check made are saved beside their photos (made once, not once per server start) ...
    views = sorted(settings.image_dir.glob("TS0070/*.view*.npz"))
    assert len(views) == 1
    # ... and go with them.
    assert client.delete("/v1/admin/products/TS0070", headers=ADMIN).status_code == 200
    assert not list(settings.image_dir.glob("TS0070/*"))


def test_pack_sizes_of_one_design_are_told_apart_by_their_kiosk_size(
    client: TestClient, detector: BlobDetector
) -> None:
    """SMALL and LARGE share one plain design (no print to read, the same embedding): enrolled from the kiosk
    camera, their sizes in its photos decide which one a tray item is."""
    for sku, box in (("SMALL", (100, 60, 180, 140)), ("LARGE", (100, 60, 220, 180))):
        create_product(client, sku)
        photo = tray([(COLA, box)])
        detector.register(photo, [tuple(float(v) for v in box)])
        files = [("images", (f"{sku}.png", encode(photo), "image/png"))]
        response = client.post(f"/v1/admin/products/{sku}/images", files=files, data={"camera": "kiosk"},
                               headers=ADMIN)
        assert response.status_code == 201, response.text
    for sku, box in (("SMALL", (300, 200, 382, 282)), ("LARGE", (300, 200, 418, 318))):
        image = tray([(COLA, box)])
        detector.register(image, [tuple(float(v) for v in box)])
        receipt = checkout(client, encode(image)).json()
        assert lines(receipt) == {sku: 1}, receipt
