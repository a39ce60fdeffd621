"""One error body for every failure: `{"code": ..., "detail": ...}`; domain errors map to statuses here."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from trayscan import errors
from trayscan.schemas import ErrorBody

log = logging.getLogger(__name__)

STATUS_OF: dict[type[errors.TrayscanError], int] = {
    errors.UnsupportedImageError: 415,
    errors.CorruptImageError: 422,
    errors.ImageTooLargeError: 413,
    errors.InvalidRequestError: 422,
    errors.NoItemFoundError: 422,
    errors.ProductNotFoundError: 404,
    errors.ImageNotFoundError: 404,
    errors.ReceiptNotFoundError: 404,
    errors.ItemNotFoundError: 404,
    errors.PhotoNotKeptError: 409,
    errors.ConfusableCropError: 409,
    errors.ProductExistsError: 409,
    errors.IdempotencyKeyReusedError: 422,
    errors.IdempotencyKeyInUseError: 409,
    errors.CurrencyMismatchError: 409,
    errors.GalleryEmptyError: 503,
    errors.ServiceNotReadyError: 503,
}


def status_of(error: errors.TrayscanError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 400


def error_response(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(ErrorBody(code=code, detail=detail).model_dump(), status_code=status, headers=headers)


async def _domain_error(_request: Request, error: errors.TrayscanError) -> JSONResponse:
    return error_response(status_of(error), error.code, error.detail)


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    code = HTTPStatus(error.status_code).phrase.lower().replace(" ", "_")
    headers = getattr(error, "headers", None)
    if error.status_code == 405:
        # Starlette names the methods of the first route with this path only (PATCH of a product, not DELETE).
        headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
    return error_response(error.status_code, code, str(error.detail), headers)


def allowed_methods(request: Request) -> list[str]:
    """The methods of every route whose path template matches the request's path (FastAPI 0.165 nests each
    included router, whose own routes carry the full path)."""
    methods: set[str] = set()
    pending: list[Any] = list(request.app.router.routes)
    while pending:
        route = pending.pop()
        included = getattr(route, "original_router", None)
        if included is not None:
            pending.extend(included.routes)
        elif getattr(route, "methods", None) and route.path_regex.match(request.url.path):
            methods |= set(route.methods)
    return sorted(methods)


def _field(location: tuple[object, ...]) -> str:
    return ".".join(str(part) for part in location if part not in ("body",)) or "body"


async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    reasons = [
        f"{_field(tuple(item.get('loc', ())))}: {item.get('msg', 'invalid')}" for item in error.errors()
    ]
    return error_response(422, "validation_error", "; ".join(reasons) or "invalid request")


def internal_error_response(error: BaseException) -> JSONResponse:
    log.error("unexpected error", exc_info=error)
    return error_response(500, "internal_error", "internal server error")


async def _unexpected_error(_request: Request, error: Exception) -> JSONResponse:
    # Only what escapes the middleware (`InternalErrorMiddleware` answers everything inside it).
    return internal_error_response(error)


def install_error_handlers(app: FastAPI) -> None:
    app.exception_handler(errors.TrayscanError)(_domain_error)
    app.exception_handler(StarletteHTTPException)(_http_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(Exception)(_unexpected_error)
