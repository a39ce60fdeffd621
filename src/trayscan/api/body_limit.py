"""Request bodies are limited per route while they stream in, with a Content-Length or chunked alike.

A declared Content-Length over the route's limit is answered 413 before a byte is read. Otherwise the bytes are
counted as the app receives them: the first chunk past the limit ends the request with a 413 (the app sees the
client leave), so the multipart parser never spools more than the limit. Multipart bodies are also metered per
part (one photo), so one photo over `limits.max_upload_bytes` is refused as soon as its bytes pass the limit, not
after the whole 20-photo request has arrived.

No upload reaches the disk: Starlette's parser keeps a part in memory up to `spool_max_size` (1 MiB by default)
and writes the rest to a temporary file; `keep_parts_in_memory` raises that to the largest part a route takes. It
costs no memory the request would not use anyway: the routes read every photo into memory whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.formparsers import MultiPartParser
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trayscan.api.errors import error_response
from trayscan.config import LimitSettings

PART_OVERHEAD = 16 * 1024  # the headers and boundary of one multipart part (file name, content type)
FORM_OVERHEAD = 64 * 1024  # the rest of a multipart request
JSON_BODY_BYTES = 64 * 1024  # a product is a few hundred bytes of JSON; nothing else takes a body


@dataclass(frozen=True)
class RouteLimit:
    method: str
    path: re.Pattern[str]
    body_bytes: int
    part_bytes: int | None  # multipart: the most one part may hold (its file plus PART_OVERHEAD)


def route_limits(limits: LimitSettings) -> list[RouteLimit]:
    photo = limits.max_upload_bytes + PART_OVERHEAD
    return [
        RouteLimit("POST", re.compile(r"/v1/checkout"), photo + FORM_OVERHEAD, photo),
        RouteLimit(
            "POST",
            re.compile(r"/v1/admin/products/[^/]+/images"),
            limits.max_enrol_images * photo + FORM_OVERHEAD,
            photo,
        ),
    ]


class BodyTooLarge(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class PartMeter:
    """Counts the bytes of each part of a multipart body as it streams (a delimiter may span two chunks)."""

    def __init__(self, boundary: bytes, part_bytes: int) -> None:
        self.delimiter = b"\r\n--" + boundary
        self.part_bytes = part_bytes
        self.current = 0
        self.parts = 0
        self.tail = b"\r\n"  # the first delimiter has no CRLF before it

    def feed(self, chunk: bytes) -> None:
        data = self.tail + chunk
        start = 0
        while (found := data.find(self.delimiter, start)) >= 0:
            self.current += found - start
            self._check()
            self.current, start = 0, found + len(self.delimiter)
            self.parts += 1
        keep = min(len(data) - start, len(self.delimiter) - 1)  # a delimiter may begin in these last bytes
        self.current += len(data) - start - keep
        self._check()
        self.tail = data[len(data) - keep :] if keep else b""

    def _check(self) -> None:
        if self.current > self.part_bytes:
            raise BodyTooLarge(
                f"form part {self.parts} is over the limit of {self.part_bytes - PART_OVERHEAD} bytes"
            )


def _boundary(scope: Scope) -> bytes | None:
    content_type = dict(scope["headers"]).get(b"content-type", b"")
    match = re.search(rb'boundary="?([^";]+)"?', content_type)
    return match.group(1) if content_type.startswith(b"multipart/") and match else None


def keep_parts_in_memory(limits: LimitSettings) -> None:
    """Starlette spools a multipart part to disk past `MultiPartParser.spool_max_size` (a class attribute: there is
    no per-app setting); raise it so a part within any route's limit stays in memory."""
    largest = max(limit.part_bytes or 0 for limit in route_limits(limits))
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, largest)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: LimitSettings) -> None:
        self.app = app
        self.routes = route_limits(limits)

    def _limit_of(self, scope: Scope) -> RouteLimit:
        for route in self.routes:
            if scope["method"] == route.method and route.path.fullmatch(scope["path"]):
                return route
        return RouteLimit(scope["method"], re.compile(".*"), JSON_BODY_BYTES, None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_of(scope)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit.body_bytes:
            await _refuse(scope, receive, send, f"request body is {int(length)} bytes, over the limit of {limit.body_bytes}")
            return
        boundary = _boundary(scope) if limit.part_bytes is not None else None
        meter = PartMeter(boundary, limit.part_bytes) if boundary and limit.part_bytes else None
        received = 0
        refused = False
        started = False

        async def metered_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] != "http.request":
                return message
            chunk = message.get("body", b"")
            received += len(chunk)
            try:
                if received > limit.body_bytes:
                    raise BodyTooLarge(f"request body is over the limit of {limit.body_bytes} bytes")
                if meter is not None:
                    meter.feed(chunk)
            except BodyTooLarge as error:
                refused = True
                if not started:
                    await _refuse(scope, receive, send, error.detail)
                return {"type": "http.disconnect"}  # the app stops reading, as if the client had left
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, metered_receive, guarded_send)
        except ClientDisconnect:
            if not refused:
                raise


async def _refuse(scope: Scope, receive: Receive, send: Send, detail: str) -> None:
    # The rest of the body is never read: the connection cannot carry another request.
    response = error_response(413, "request_too_large", detail, headers={"Connection": "close"})
    await response(scope, receive, send)
