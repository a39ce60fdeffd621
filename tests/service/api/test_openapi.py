"""Issue 22, item 7: the OpenAPI document declares the one error body on every error status of every route."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from trayscan import compose
from trayscan.api import create_app

from ..conftest import ADMIN, create_product, make_settings

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
    # a body that is not UTF-8 cannot be parsed as JSON: 400, on every route with a body
    assert "400" in paths["/v1/admin/products"]["post"]["responses"]
    assert "400" in paths["/v1/receipts/{receipt_id}/corrections"]["post"]["responses"]
    # the staff page's sign-in check needs no loaded services: it cannot answer 503
    assert set(paths["/v1/admin/session"]["get"]["responses"]) == {"200", "401", "403", "500"}
    assert "503" in paths["/v1/products"]["get"]["responses"]


def test_a_declared_503_is_what_a_starting_service_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Models that cannot load: the service stays up, not ready. Every GET under /v1/ answers 503 exactly when its
    # OpenAPI entry declares it.
    def missing(settings: object) -> None:
        raise FileNotFoundError("no models")

    monkeypatch.setattr(compose, "load_models", missing)
    with TestClient(create_app(make_settings(tmp_path))) as starting:
        paths = starting.get("/openapi.json").json()["paths"]
        checked = 0
        for path, ops in paths.items():
            if not path.startswith("/v1/") or "get" not in ops:
                continue
            concrete = path.replace("{sku}", "COLA").replace("{image_id}", "1").replace("{receipt_id}", "r1")
            status = starting.get(concrete, headers=ADMIN).status_code
            assert (status == 503) == ("503" in ops["get"]["responses"]), (path, status)
            checked += 1
        assert checked >= 5


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


def test_json_that_is_not_utf8_is_400(client: TestClient) -> None:
    headers = {**ADMIN, "Content-Type": "application/json"}
    response = client.post("/v1/admin/products", content=b"\xff", headers=headers)
    assert response.status_code == 400 and response.json()["code"] == "bad_request"
