"""Issue 22, item 7: the OpenAPI document declares the one error body on every error status of every route."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ..conftest import ADMIN, create_product

ERROR = {"$ref": "#/components/schemas/ErrorBody"}


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in schema["paths"].items() for method, op in ops.items()]


def test_every_error_status_has_the_error_body(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["schemas"]["ErrorBody"]["required"] == ["code", "detail"]
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for method, path, operation in operations(schema):
        errors = {status: r for status, r in operation["responses"].items() if status[0] in "45"}
        assert "500" in errors, (method, path)
        for status, response in errors.items():
            body = response["content"]["application/json"]["schema"]
            if (path, status) == ("/readyz", "503"):
                not_ready = schema["components"]["schemas"]["NotReady"]
                assert {"code", "detail"} <= set(not_ready["properties"]), not_ready
            else:
                assert body == ERROR, (method, path, status)


def test_each_route_lists_its_statuses(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/v1/checkout"]["post"]["responses"]) == {
        "200", "400", "409", "413", "415", "422", "500", "503"
    }
    assert set(paths["/v1/admin/products/{sku}"]["patch"]["responses"]) >= {"401", "403", "404", "413", "422"}
    assert set(paths["/v1/admin/images/{image_id}"]["delete"]["responses"]) >= {"401", "403", "404", "422"}


def test_money_and_bounds_are_in_the_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    create = schema["components"]["schemas"]["ProductCreate"]["properties"]
    assert create["price"]["pattern"] == r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
    update = schema["components"]["schemas"]["ProductUpdate"]["properties"]
    assert all("anyOf" not in field and "default" not in field for field in update.values())  # never null
    offset = next(p for p in schema["paths"]["/v1/products"]["get"]["parameters"] if p["name"] == "offset")
    assert offset["schema"]["maximum"] == 2**63 - 1


def test_a_wrong_method_names_every_allowed_one(client: TestClient) -> None:
    create_product(client, "COLA")
    response = client.options("/v1/admin/products/COLA", headers=ADMIN)
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, PATCH"
    assert response.json() == {"code": "method_not_allowed", "detail": "Method Not Allowed"}
    assert client.put("/v1/products/COLA").headers["allow"] == "GET"
