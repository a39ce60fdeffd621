"""Every HTTP request: a request id, its latency and status in the metrics, one access-log line.

The request id is the client's `X-Request-ID` when it is a plain token (letters, digits, `._:-`, at most 128),
otherwise a new one; it is sent back in `X-Request-ID` and is on every log line written while the request runs.
Health polls and metric scrapes (`QUIET_PATHS`) are counted but not written to the access log: a load balancer
polling `/readyz` every second would drown the log. The error code of a 4xx/5xx body (`{"code": ...}`) is counted
per route; an exception that escapes the app is counted as a 500 `internal_error`.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trayscan.api.metrics import UNMATCHED_ROUTE, ServiceMetrics
from trayscan.logs import bind_request_id

access_log = logging.getLogger("trayscan.access")

QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_ERROR_BODY_LIMIT = 4096  # error bodies are small JSON objects; a larger one is not read for its code


def request_id_of(headers: Headers) -> str:
    given = headers.get(REQUEST_ID_HEADER)
    return given if given is not None and _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


def error_code_of(status: int, body: bytes) -> str:
    try:
        code = json.loads(body).get("code") if body else None
    except (ValueError, AttributeError):
        code = None
    return code if isinstance(code, str) and code else f"http_{status}"


class ObserveMiddleware:
    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(Headers(scope=scope))
        start = time.perf_counter()
        status = 500
        error_body = bytearray()
        json_body = False

        async def observed_send(message: Message) -> None:
            nonlocal status, json_body
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                json_body = headers.get("content-type", "").startswith("application/json")
            elif (
                message["type"] == "http.response.body"
                and status >= 400
                and json_body
                and len(error_body) <= _ERROR_BODY_LIMIT
            ):
                error_body.extend(message.get("body", b""))
            await send(message)

        code: str | None = None
        with bind_request_id(request_id):
            try:
                await self.app(scope, receive, observed_send)
            except Exception:
                status, code = 500, "internal_error"
                raise
            finally:
                self._record(scope, request_id, status, code, bytes(error_body), time.perf_counter() - start)

    def _record(
        self, scope: Scope, request_id: str, status: int, code: str | None, body: bytes, seconds: float
    ) -> None:
        route = route_of(scope)
        method = scope["method"]
        self.metrics.observe_request(method, route, status, seconds)
        if status >= 400:
            too_long = len(body) > _ERROR_BODY_LIMIT
            self.metrics.observe_error(route, status, code or error_code_of(status, b"" if too_long else body))
        if scope["path"] in QUIET_PATHS:
            return
        client = scope.get("client")
        access_log.info(
            "request",
            extra={
                "method": method,
                "path": scope["path"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000.0, 2),
                "client": client[0] if client else None,
            },
        )
