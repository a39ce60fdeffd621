from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.postgres import DATABASES
from trayscan.catalog import Catalog
from trayscan.inference.base import Detection

from ..builders import encode, product_photo, tray
from ..conftest import ADMIN, COLA, LEMONADE, create_product, enrol
from ..fakes import BlobDetector, image_key

pytestmark = pytest.mark.parametrize("database", DATABASES, indirect=True)


NOVEL = ((200, 200, 40), (40, 120, 200))  # a design nothing else uses


def photo_files(design, count: int = 1) -> list:
    return [("images", (f"{i}.png", encode(product_photo(design)), "image/png")) for i in range(count)]


def test_admin_routes_need_a_token(client: TestClient) -> None:
    response = client.post("/v1/admin/products", json={"sku": "A", "name": "A", "price": "1.00"})
    assert response.status_code == 401
    assert response.json() == {"code": "unauthorized", "detail": "admin bearer token required"}
    assert response.headers["www-authenticate"] == "Bearer"


def test_wrong_admin_token_is_403(client: TestClient) -> None:
    response = client.delete("/v1/admin/products/A", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 403
    assert response.json() == {"code": "forbidden", "detail": "invalid admin token"}


def test_create_product(client: TestClient) -> None:
    response = client.post(
        "/v1/admin/products",
        json={"sku": "TEA-1", "name": "Green tea", "price": "4.5", "currency": "CNY"},
        headers=ADMIN,
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["sku"], body["name"], body["price"], body["currency"], body["active"]) == (
        "TEA-1",
        "Green tea",
        "4.50",
        "CNY",
        True,
    )
    assert client.get("/v1/products/TEA-1").json()["price"] == "4.50"
    assert client.get("/v1/products").json()["count"] == 1


def test_create_existing_sku_is_409(client: TestClient) -> None:
    create_product(client, "COLA")
    response = client.post(
        "/v1/admin/products", json={"sku": "COLA", "name": "x", "price": "1"}, headers=ADMIN
    )
    assert response.status_code == 409
    assert response.json() == {"code": "product_exists", "detail": "product 'COLA' already exists"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"sku": "A", "name": "A", "price": "-1"}, 'price: Value error, must be a decimal string such as "3.50"'),
        ({"sku": "A", "name": "A", "price": "1.005"}, "price: Value error, must be a decimal string"),
        ({"sku": "a b", "name": "A", "price": "1"}, "sku: String should match pattern"),
        ({"sku": "A", "name": "", "price": "1"}, "name: String should have at least 1 character"),
        (
            {"sku": "A", "name": "A", "price": "1", "currency": "euro"},
            "currency: String should match pattern",
        ),
    ],
)
def test_invalid_product_is_422(client: TestClient, body: dict, reason: str) -> None:
    response = client.post("/v1/admin/products", json=body, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["detail"].startswith(reason)


def test_update_unknown_product_is_404(client: TestClient) -> None:
    response = client.patch("/v1/admin/products/NOPE", json={"price": "1.00"}, headers=ADMIN)
    assert response.status_code == 404
    assert response.json() == {"code": "product_not_found", "detail": "unknown SKU 'NOPE'"}


def test_get_unknown_product_is_404(client: TestClient) -> None:
    response = client.get("/v1/products/NOPE")
    assert response.status_code == 404
    assert response.json() == {"code": "product_not_found", "detail": "unknown SKU 'NOPE'"}


def test_enrolment_lists_each_image(client: TestClient) -> None:
    create_product(client, "COLA")
    body = enrol(client, "COLA", COLA, photos=3)
    assert body["enrolled"] == 3 and body["warnings"] == []
    assert [image["status"] for image in body["images"]] == ["enrolled"] * 3
    assert body["images"][0]["box"] == [90.0, 50.0, 230.0, 190.0]
    assert len({image["image_id"] for image in body["images"]}) == 3
    assert client.get("/v1/products/COLA").json()["image_count"] == 3


def test_enrolment_takes_the_whole_product_when_a_part_scores_best(
    client: TestClient, detector: BlobDetector
) -> None:
    create_product(client, "COLA")
    photo = product_photo(COLA, box=(90, 50, 230, 190))
    detector.register(photo, [(90.0, 50.0, 160.0, 120.0)], score=0.9)  # a label on the product, best score
    detector.truth[image_key(photo)].append(Detection(box=(90.0, 50.0, 230.0, 190.0), score=0.6))
    files = [("images", ("cola.png", encode(photo), "image/png"))]
    body = client.post("/v1/admin/products/COLA/images", files=files, headers=ADMIN).json()
    assert body["images"][0]["box"] == [90.0, 50.0, 230.0, 190.0]


def test_enrolment_leaves_out_an_object_beside_the_product(client: TestClient, detector: BlobDetector) -> None:
    create_product(client, "COLA")
    photo = product_photo(COLA, box=(90, 50, 230, 190))
    detector.register(photo, [(250.0, 10.0, 310.0, 60.0)], score=0.95)  # a receipt beside it, scored best
    detector.truth[image_key(photo)].append(Detection(box=(90.0, 50.0, 230.0, 190.0), score=0.6))
    files = [("images", ("cola.png", encode(photo), "image/png"))]
    body = client.post("/v1/admin/products/COLA/images", files=files, headers=ADMIN).json()
    assert body["images"][0]["box"] == [90.0, 50.0, 230.0, 190.0] and body["images"][0]["score"] == 0.6


def test_kiosk_camera_photos_keep_the_product_size(client: TestClient) -> None:
    create_product(client, "COLA")
    files = [("images", ("kiosk.png", encode(product_photo(COLA, box=(90, 50, 230, 190))), "image/png"))]
    response = client.post("/v1/admin/products/COLA/images", files=files, data={"camera": "kiosk"}, headers=ADMIN)
    assert response.status_code == 201, response.text
    enrol(client, "COLA", COLA, photos=1)  # camera not named: another camera
    images = client.get("/v1/admin/products/COLA/images", headers=ADMIN).json()["data"]
    # the 140 x 140 box in a 320 x 240 photo: 140 / 320
    assert [image["kiosk_size"] for image in images] == [pytest.approx(0.4375), None]


def test_unknown_camera_is_422_and_enrols_nothing(client: TestClient) -> None:
    create_product(client, "COLA")
    response = client.post("/v1/admin/products/COLA/images", files=photo_files(COLA), data={"camera": "phone"},
                           headers=ADMIN)
    assert response.status_code == 422 and "camera" in response.text
    assert client.get("/v1/products/COLA").json()["image_count"] == 0


def test_photo_without_detection_uses_the_whole_photo(client: TestClient) -> None:
    create_product(client, "BLANK")
    files = [("images", ("white.png", encode(product_photo(COLA, box=(0, 0, 0, 0))), "image/png"))]
    body = client.post("/v1/admin/products/BLANK/images", files=files, headers=ADMIN).json()
    assert body["images"][0]["status"] == "enrolled_whole_image"
    assert body["images"][0]["box"] == [0.0, 0.0, 320.0, 240.0] and body["images"][0]["score"] is None


def test_enrolled_product_is_recognised_at_once_and_gone_after_delete(stocked: TestClient) -> None:
    image = encode(tray([(NOVEL, (20, 20, 140, 160))]))
    before = stocked.post("/v1/checkout", files={"image": ("t.png", image, "image/png")}).json()
    assert before["items"] == [] and len(before["unrecognized"]) == 1

    create_product(stocked, "NOVEL", "1.99")
    enrolment = enrol(stocked, "NOVEL", NOVEL)
    after = stocked.post("/v1/checkout", files={"image": ("t.png", image, "image/png")}).json()
    assert [(i["sku"], i["quantity"]) for i in after["items"]] == [("NOVEL", 1)]
    assert after["gallery_version"] == enrolment["gallery_version"] > before["gallery_version"]

    deleted = stocked.delete("/v1/admin/products/NOVEL", headers=ADMIN)
    assert deleted.status_code == 200 and deleted.json()["images_removed"] == 2
    gone = stocked.post("/v1/checkout", files={"image": ("t.png", image, "image/png")}).json()
    assert gone["items"] == [] and len(gone["unrecognized"]) == 1
    assert stocked.get("/v1/products/NOVEL").status_code == 404


def test_delete_image(stocked: TestClient, catalog: Catalog) -> None:
    image_id = min(catalog.image_ids())
    response = stocked.delete(f"/v1/admin/images/{image_id}", headers=ADMIN)
    assert response.status_code == 200 and response.json()["id"] == image_id
    assert image_id not in catalog.image_ids()
    assert stocked.delete(f"/v1/admin/images/{image_id}", headers=ADMIN).json() == {
        "code": "image_not_found",
        "detail": f"unknown gallery image {image_id}",
    }


def test_confusable_product_gets_a_warning(stocked: TestClient) -> None:
    create_product(stocked, "COLA-ZERO")
    swapped = (COLA[1], COLA[0])  # same colours, other layout: the histogram embedder cannot tell them apart
    body = stocked.post(
        "/v1/admin/products/COLA-ZERO/images", files=photo_files(swapped), headers=ADMIN
    ).json()
    assert [w["sku"] for w in body["warnings"]] == ["COLA"]
    assert body["warnings"][0]["message"].startswith("confusable with COLA: similarity")


def test_enrol_unknown_product_is_404(client: TestClient) -> None:
    response = client.post("/v1/admin/products/NOPE/images", files=photo_files(COLA), headers=ADMIN)
    assert response.status_code == 404
    assert response.json() == {"code": "product_not_found", "detail": "unknown SKU 'NOPE'"}


def test_enrol_more_than_20_photos_is_422(client: TestClient) -> None:
    create_product(client, "COLA")
    response = client.post("/v1/admin/products/COLA/images", files=photo_files(COLA, 21), headers=ADMIN)
    assert response.status_code == 422
    assert response.json() == {"code": "invalid_request", "detail": "at most 20 photos per request, got 21"}


def test_enrol_20_photos_is_accepted(client: TestClient) -> None:
    create_product(client, "COLA")
    response = client.post("/v1/admin/products/COLA/images", files=photo_files(COLA, 20), headers=ADMIN)
    assert response.status_code == 201 and response.json()["enrolled"] == 20


def test_enrol_without_photos_is_422(client: TestClient) -> None:
    create_product(client, "COLA")
    response = client.post("/v1/admin/products/COLA/images", headers=ADMIN, data={"x": "1"})
    assert response.status_code == 422
    assert response.json() == {"code": "validation_error", "detail": "images: Field required"}


def state(client: TestClient, catalog: Catalog, settings) -> tuple:
    images = sorted(p.name for p in Path(settings.image_dir).rglob("*") if p.is_file())
    return catalog.image_ids(), client.get("/readyz").json()["gallery_version"], images


def test_failed_enrolment_changes_nothing(stocked: TestClient, catalog: Catalog, settings) -> None:
    before = state(stocked, catalog, settings)
    files = photo_files(LEMONADE) + [("images", ("bad.png", b"not an image at all", "image/png"))]
    response = stocked.post("/v1/admin/products/LEMONADE/images", files=files, headers=ADMIN)
    assert response.status_code == 415
    assert response.json() == {
        "code": "unsupported_image",
        "detail": "image 1 (bad.png): not an image: expected JPEG, PNG or WebP",
    }
    assert state(stocked, catalog, settings) == before


def test_enrolment_failing_in_the_index_rolls_back_the_catalog(
    stocked: TestClient, catalog: Catalog, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = state(stocked, catalog, settings)
    gallery = stocked.app.state.services.gallery

    def broken_add(vectors, ids):
        raise OSError("disk full")

    monkeypatch.setattr(gallery, "add", broken_add)
    response = stocked.post("/v1/admin/products/LEMONADE/images", files=photo_files(LEMONADE), headers=ADMIN)
    assert response.status_code == 500
    assert response.json() == {"code": "internal_error", "detail": "internal server error"}
    monkeypatch.undo()
    assert state(stocked, catalog, settings) == before


# the token check and the stored photos

NEW_ADMIN_READS = ["/v1/admin/session", "/v1/admin/products/COLA/images", "/v1/admin/images/1/file"]


@pytest.mark.parametrize("path", NEW_ADMIN_READS)
def test_admin_reads_without_token_are_401(stocked: TestClient, path: str) -> None:
    response = stocked.get(path)
    assert response.status_code == 401
    assert response.json() == {"code": "unauthorized", "detail": "admin bearer token required"}


@pytest.mark.parametrize("path", NEW_ADMIN_READS)
def test_admin_reads_with_a_wrong_token_are_403(stocked: TestClient, path: str) -> None:
    response = stocked.get(path, headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 403
    assert response.json() == {"code": "forbidden", "detail": "invalid admin token"}


def test_session_accepts_the_admin_token(client: TestClient) -> None:
    response = client.get("/v1/admin/session", headers=ADMIN)
    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_list_images_of_a_product(client: TestClient) -> None:
    create_product(client, "COLA")
    enrolled = enrol(client, "COLA", COLA, photos=2)["images"]
    response = client.get("/v1/admin/products/COLA/images", headers=ADMIN)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [image["id"] for image in body["data"]] == [image["image_id"] for image in enrolled]
    first = body["data"][0]
    assert (first["sku"], first["box"]) == ("COLA", [90.0, 50.0, 230.0, 190.0])
    assert first["url"] == f"/v1/admin/images/{first['id']}/file"
    assert first["created_at"]


def test_list_images_of_a_product_without_photos_is_empty(client: TestClient) -> None:
    create_product(client, "COLA")
    response = client.get("/v1/admin/products/COLA/images", headers=ADMIN)
    assert response.status_code == 200
    assert response.json() == {"data": [], "count": 0}


def test_list_images_of_unknown_product_is_404(client: TestClient) -> None:
    response = client.get("/v1/admin/products/NOPE/images", headers=ADMIN)
    assert response.status_code == 404
    assert response.json() == {"code": "product_not_found", "detail": "unknown SKU 'NOPE'"}


@pytest.mark.parametrize(
    ("fmt", "media_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_image_file_is_the_stored_photo(client: TestClient, fmt: str, media_type: str) -> None:
    create_product(client, "COLA")
    photo = encode(product_photo(COLA), fmt)
    files = [("images", ("cola", photo, "application/octet-stream"))]
    enrolment = client.post("/v1/admin/products/COLA/images", files=files, headers=ADMIN).json()
    [listed] = client.get("/v1/admin/products/COLA/images", headers=ADMIN).json()["data"]
    assert listed["id"] == enrolment["images"][0]["image_id"]
    response = client.get(listed["url"], headers=ADMIN)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == photo


def test_image_file_of_unknown_image_is_404(client: TestClient) -> None:
    response = client.get("/v1/admin/images/999/file", headers=ADMIN)
    assert response.status_code == 404
    assert response.json() == {"code": "image_not_found", "detail": "unknown gallery image 999"}


def test_image_file_lost_on_disk_is_404(stocked: TestClient, catalog: Catalog, settings) -> None:
    image_id = min(catalog.image_ids())
    (Path(settings.image_dir) / catalog.get_image(image_id).image_path).unlink()
    response = stocked.get(f"/v1/admin/images/{image_id}/file", headers=ADMIN)
    assert response.status_code == 404
    assert response.json() == {
        "code": "image_not_found",
        "detail": f"the stored photo of gallery image {image_id} is missing",
    }


def test_deleted_image_is_no_longer_listed_or_served(stocked: TestClient) -> None:
    [first, second] = stocked.get("/v1/admin/products/COLA/images", headers=ADMIN).json()["data"]
    assert stocked.delete(f"/v1/admin/images/{first['id']}", headers=ADMIN).status_code == 200
    listed = stocked.get("/v1/admin/products/COLA/images", headers=ADMIN).json()
    assert listed == {"data": [second], "count": 1}
    assert stocked.get(first["url"], headers=ADMIN).json() == {
        "code": "image_not_found",
        "detail": f"unknown gallery image {first['id']}",
    }
