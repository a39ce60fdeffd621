"""Issue 22, deliverable 4: Idempotency-Key on checkout, product creation and enrolment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.postgres import DATABASES
from trayscan.api.idempotency import fingerprint
from trayscan.catalog import Catalog
from trayscan.catalog.idempotency import IdempotencyRecords
from trayscan.catalog.models import Receipt
from trayscan.schemas import ProductCreate

from ..builders import encode, product_photo, tray
from ..conftest import ADMIN, COLA, LEMONADE, create_product

pytestmark = pytest.mark.parametrize("database", DATABASES, indirect=True)

NEW = {"sku": "TEA", "name": "Tea", "price": "1.20"}


def with_key(key: str) -> dict[str, str]:
    return {**ADMIN, "Idempotency-Key": key}


def receipts(catalog: Catalog) -> int:
    with catalog.transaction() as session:
        return session.scalar(select(func.count()).select_from(Receipt)) or 0


def test_a_retried_checkout_gets_the_same_receipt(stocked: TestClient, catalog: Catalog) -> None:
    photo = encode(tray([(COLA, (20, 20, 140, 160)), (LEMONADE, (300, 20, 420, 160))]))
    answers = [
        stocked.post("/v1/checkout", files={"image": ("t.png", photo, "image/png")}, headers={"Idempotency-Key": "k1"})
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[1].json() == answers[2].json() == answers[0].json()
    assert "idempotent-replayed" not in answers[0].headers
    assert answers[1].headers["idempotent-replayed"] == "true"
    assert receipts(catalog) == 1
    other = stocked.post("/v1/checkout", files={"image": ("t.png", photo, "image/png")})
    assert other.json()["receipt_id"] != answers[0].json()["receipt_id"]  # no key: a new checkout


def test_a_retried_product_creation_creates_one_product(client: TestClient) -> None:
    first = client.post("/v1/admin/products", json=NEW, headers=with_key("create-1"))
    again = client.post("/v1/admin/products", json=NEW, headers=with_key("create-1"))
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert client.get("/v1/products").json()["count"] == 1
    assert client.post("/v1/admin/products", json=NEW, headers=ADMIN).status_code == 409  # without the key


def test_a_retried_enrolment_adds_no_duplicate_images(client: TestClient) -> None:
    create_product(client, "COLA")
    files = [("images", (f"{i}.png", encode(product_photo(COLA, box=(90 + 5 * i, 50, 230, 190))), "image/png"))
             for i in range(2)]
    first = client.post("/v1/admin/products/COLA/images", files=files, headers=with_key("enrol-1"))
    again = client.post("/v1/admin/products/COLA/images", files=files, headers=with_key("enrol-1"))  # new boundary
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert client.get("/v1/products/COLA").json()["image_count"] == 2
    assert client.get("/readyz").json()["gallery_size"] == 2


def test_a_used_key_with_a_different_request_is_422(client: TestClient) -> None:
    assert client.post("/v1/admin/products", json=NEW, headers=with_key("k")).status_code == 201
    response = client.post("/v1/admin/products", json={**NEW, "sku": "COFFEE"}, headers=with_key("k"))
    assert response.status_code == 422
    assert response.json() == {
        "code": "idempotency_key_reused",
        "detail": "this Idempotency-Key was used for a different request: use a new key for a new request",
    }
    assert [p["sku"] for p in client.get("/v1/products").json()["data"]] == ["TEA"]


def test_a_refusal_is_replayed_and_a_key_in_flight_is_409(client: TestClient) -> None:
    photo = [("images", ("0.png", encode(product_photo(COLA)), "image/png"))]
    first = client.post("/v1/admin/products/NOPE/images", files=photo, headers=with_key("e"))
    assert first.status_code == 404
    create_product(client, "NOPE")
    assert client.post("/v1/admin/products/NOPE/images", files=photo, headers=with_key("e")).json() == first.json()

    services = client.app.state.services
    same = fingerprint(ProductCreate(**NEW).model_dump_json(exclude={"currency"}))
    assert services.idempotency.reserve("busy", "create_product", same) is None  # a first request still running
    response = client.post("/v1/admin/products", json=NEW, headers=with_key("busy"))
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_use"


@pytest.mark.parametrize("key", ["has space", "x" * 201, "é".encode()])
def test_a_malformed_key_is_422(client: TestClient, key: str | bytes) -> None:
    response = client.post("/v1/admin/products", json=NEW, headers={**ADMIN, "Idempotency-Key": key})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("header.Idempotency-Key: ")
    assert client.get("/v1/products").json()["count"] == 0


def test_answers_expire(catalog: Catalog) -> None:
    expired = IdempotencyRecords(catalog.database, timedelta(seconds=-1))
    assert expired.reserve("k", "checkout", "f1") is None
    expired.answer("k", "checkout", 200, {"ok": True})
    assert expired.reserve("k", "checkout", "f2") is None  # the old answer had expired: a new request runs
    kept = IdempotencyRecords(catalog.database, timedelta(hours=1))
    assert kept.reserve("j", "checkout", "f") is None
    kept.answer("j", "checkout", 200, {"ok": True})
    stored = kept.reserve("j", "checkout", "f")
    assert stored is not None and (stored.status, stored.body) == (200, {"ok": True})


def test_the_answer_commits_with_the_work(
    stocked: TestClient, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A crash between the work's commit and a separate write of its answer would leave a reservation with no
    # answer, which a retry after ABANDONED_AFTER runs again: a second receipt, product or set of images. The answer
    # is in the work's own transaction, so even with that later write gone (and reservations abandoned at once)
    # every retry gets the first answer.
    monkeypatch.setattr(IdempotencyRecords, "answer", lambda self, *args: None)
    monkeypatch.setattr("trayscan.catalog.idempotency.ABANDONED_AFTER", timedelta(0))
    photo = encode(tray([(COLA, (20, 20, 140, 160))]))
    files = [("images", ("0.png", encode(product_photo(COLA, box=(95, 55, 225, 185))), "image/png"))]

    def requests():
        yield stocked.post("/v1/checkout", files={"image": ("t.png", photo, "image/png")},
                           headers={"Idempotency-Key": "c"})
        yield stocked.post("/v1/admin/products", json=NEW, headers=with_key("p"))
        yield stocked.post("/v1/admin/products/COLA/images", files=files, headers=with_key("i"))

    images_before = stocked.get("/v1/products/COLA").json()["image_count"]
    first, again = list(requests()), list(requests())
    assert [r.status_code for r in first] == [200, 201, 201]
    assert [r.status_code for r in again] == [200, 201, 201]
    assert [r.json() for r in again] == [r.json() for r in first]
    assert all(r.headers.get("idempotent-replayed") == "true" for r in again)
    assert receipts(catalog) == 1
    assert stocked.get("/v1/products/COLA").json()["image_count"] == images_before + 1
