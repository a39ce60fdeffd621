"""The OpenAPI document: every error answer is declared with the one `ErrorBody` schema, and the one currency
a product can have is this store's (`settings.currency`).

Routes declare their own domain statuses (404, 409, 415, ...) with `error_responses`; the statuses that follow
from how a route is built are added here by rule, so no route can forget one:
- 422 `validation_error` wherever there is a parameter or a body (in place of FastAPI's own 422 schema, which
  the server never sends);
- 413 `request_too_large` wherever there is a body (`api/body_limit.py`), 400 for a body that cannot be parsed
  (a broken multipart body, JSON bytes that are not UTF-8);
- 503 `not_ready` on every `/v1/` route that needs the loaded services (models or catalog still loading);
- 429 `too_many_requests` on admin writes (`api/rate_limit.py`);
- 500 `internal_error` everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from trayscan.schemas import ErrorBody

# `openapi_extra` of a /v1/ route that does not depend on the loaded services: it cannot answer 503 `not_ready`.
NEEDS_NO_SERVICES = "x-needs-no-services"
ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
DESCRIPTIONS = {
    "400": "The body cannot be parsed (a broken multipart body, or JSON bytes that are not UTF-8)",
    "401": "No admin bearer token",
    "403": "Wrong admin token",
    "404": "Not found",
    "409": "Conflict",
    "413": "Over a byte or pixel limit",
    "415": "Not a JPEG, PNG or WebP image",
    "422": "Invalid parameter or body, or an image that cannot be read",
    "429": "Too many admin writes: retry after the Retry-After seconds",
    "500": "Internal error",
    "503": "Not ready (starting) or nothing enrolled yet",
}


def _error(status: str) -> dict[str, Any]:
    return {"description": DESCRIPTIONS.get(status, "Error"), "content": {"application/json": {"schema": ERROR_REF}}}


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[str]:
    statuses = {"500"}
    body = operation.get("requestBody")
    if operation.get("parameters") or body:
        statuses.add("422")
    if body:
        statuses.update(("413", "400"))
    # A route that needs no loaded services says so (NEEDS_NO_SERVICES); tests/service/api/test_openapi.py checks
    # every /v1/ route's 503 against a service that is still starting.
    if path.startswith("/v1/") and not operation.pop(NEEDS_NO_SERVICES, False):
        statuses.add("503")
    if path.startswith("/v1/admin/") and method != "get":
        statuses.add("429")  # api/rate_limit.py
    return statuses


def error_schema_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorBody"] = ErrorBody.model_json_schema()
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        currency = app.state.settings.currency
        components["ProductCreate"]["properties"]["currency"] = {
            "type": "string", "enum": [currency], "description": f"The store currency, {currency} (the default)"
        }
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status in _statuses(path, method, operation):
                    responses.setdefault(status, _error(status))
                for status, response in responses.items():
                    content = str(response.get("content", ""))
                    if status[0] in "45" and (not content or "HTTPValidationError" in content):
                        response["content"] = {"application/json": {"schema": ERROR_REF}}
                        response["description"] = DESCRIPTIONS.get(status, response.get("description", "Error"))
        app.openapi_schema = schema
        return schema

    return openapi
