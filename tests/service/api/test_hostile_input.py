"""Issue 22's probe table, items 1-3, 6 and 10: hostile or odd input is a 4xx with a reason, never a 500."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError

from tests.postgres import DATABASES
from trayscan.catalog import Catalog
from trayscan.catalog.models import Product

from ..builders import encode, product_photo
from ..conftest import ADMIN, COLA, create_product

pytestmark = pytest.mark.parametrize("database", DATABASES, indirect=True)

OVER_INT64 = 2**63


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", "/v1/products?offset=100000000000000000000", "query.offset"),
        ("DELETE", f"/v1/admin/images/{OVER_INT64}", "path.image_id"),
        ("GET", f"/v1/admin/images/{OVER_INT64}/file", "path.image_id"),
    ],
)
def test_integers_over_int64_are_422(client: TestClient, method: str, path: str, field: str) -> None:
    response = client.request(method, path, headers=ADMIN)
    assert response.status_code == 422
    assert response.json() == {
        "code": "validation_error",
        "detail": f"{field}: Input should be less than or equal to {OVER_INT64 - 1}",
    }


def test_the_largest_offset_is_an_empty_page(client: TestClient) -> None:
    create_product(client, "COLA")
    response = client.get(f"/v1/products?offset={OVER_INT64 - 1}")
    assert response.status_code == 200
    assert response.json() == {"data": [], "count": 1}


@pytest.mark.parametrize("field", ["name", "price", "active"])
def test_patch_with_null_is_422_and_changes_nothing(client: TestClient, field: str) -> None:
    before = create_product(client, "COLA", "3.50", name="Cola")
    response = client.patch("/v1/admin/products/COLA", json={field: None}, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["detail"].startswith(f"{field}: ")
    after = client.get("/v1/products/COLA").json()
    assert (after["name"], after["price"], after["active"]) == (before["name"], before["price"], before["active"])


def test_patch_leaves_out_fields_not_given(client: TestClient) -> None:
    create_product(client, "COLA", "3.50", name="Cola")
    response = client.patch("/v1/admin/products/COLA", json={"price": "4.00"}, headers=ADMIN)
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["price"]) == ("Cola", "4.00")


def test_read_paths_give_utc_times(client: TestClient) -> None:
    created = create_product(client, "COLA")
    assert created["created_at"].endswith("Z")
    for body in (client.get("/v1/products/COLA").json(), client.get("/v1/products").json()["data"][0]):
        assert body["created_at"] == created["created_at"]
        assert body["updated_at"].endswith("Z")


def test_a_product_in_another_currency_is_422(client: TestClient) -> None:
    response = client.post(
        "/v1/admin/products", json={"sku": "TEA", "name": "Tea", "price": "1.00", "currency": "EUR"}, headers=ADMIN
    )
    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid_request",
        "detail": "currency must be the store currency CNY, got EUR",
    }
    assert client.get("/v1/products").json()["count"] == 0


def test_a_sku_differing_only_in_case_is_409(client: TestClient) -> None:
    create_product(client, "TS0001")
    response = client.post(
        "/v1/admin/products", json={"sku": "ts0001", "name": "Tea", "price": "1.00"}, headers=ADMIN
    )
    assert response.status_code == 409
    assert response.json() == {"code": "product_exists", "detail": "product 'ts0001' already exists as 'TS0001'"}
    assert [p["sku"] for p in client.get("/v1/products").json()["data"]] == ["TS0001"]


def test_the_database_refuses_a_sku_differing_only_in_case(catalog: Catalog) -> None:
    """The unique index of migration 0003 holds even when two writers race past the application's check."""
    catalog.create_product("TS0001", "Tea", Decimal("1.00"), "CNY")
    with pytest.raises(IntegrityError), catalog.transaction() as session:
        session.add(Product(sku="ts0001", name="Tea", price=1, currency="CNY", active=True))


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"sku": "A", "name": "Cola\x00", "price": "1.00"}, "name: String should match pattern"),
        ({"sku": "A", "name": "Co\nla", "price": "1.00"}, "name: String should match pattern"),
        ({"sku": "A", "name": "   ", "price": "1.00"}, "name: String should have at least 1 character"),
        ({"sku": "A\x00", "name": "Cola", "price": "1.00"}, "sku: String should match pattern"),
        ({"sku": "A", "name": "Cola", "price": 1.1}, 'price: Value error, must be a decimal string such as "3.50"'),
        ({"sku": "A", "name": "Cola", "price": "1.001"}, 'price: Value error, must be a decimal string'),
        ({"sku": "A", "name": "Cola", "price": "-1"}, 'price: Value error, must be a decimal string'),
    ],
)
def test_bad_product_fields_are_422(client: TestClient, body: dict[str, object], detail: str) -> None:
    response = client.post("/v1/admin/products", json=body, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["detail"].startswith(detail)
    assert client.get("/v1/products").json()["count"] == 0


@pytest.mark.parametrize("path", ["/v1/products/A%00B", "/v1/admin/products/A%00B/images", "/v1/receipts/a%00b"])
def test_nul_in_a_path_is_422(client: TestClient, path: str) -> None:
    response = client.get(path, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize("range_header", ["bytes=abc", "bytes=999999999-"])
def test_a_photo_ignores_range_headers(client: TestClient, range_header: str) -> None:
    """Starlette's FileResponse answered these with a plain-text 400 and a bodiless 416."""
    create_product(client, "COLA")
    photo = encode(product_photo(COLA))
    enrolled = client.post(
        "/v1/admin/products/COLA/images", files=[("images", ("0.png", photo, "image/png"))], headers=ADMIN
    ).json()
    url = f"/v1/admin/images/{enrolled['images'][0]['image_id']}/file"
    response = client.get(url, headers={**ADMIN, "Range": range_header})
    assert response.status_code == 200
    assert response.content == photo
