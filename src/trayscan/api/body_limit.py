"""Refuse a request body over the limit from its Content-Length, before the multipart parser reads it."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from trayscan.api.errors import error_response


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
                response = error_response(
                    413,
                    "image_too_large",
                    f"request body is {int(length)} bytes, over the limit of {self.max_body_bytes}",
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
