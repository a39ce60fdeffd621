"""OpenAPI documentation of the error answers: every one has the `ErrorBody` shape."""

from __future__ import annotations

from typing import Any

from trayscan.schemas import ErrorBody


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorBody} for status in statuses}
