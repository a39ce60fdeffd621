"""The last resort: an exception that escapes a route becomes a 500 `{"code": "internal_error"}` answered here.

Starlette's own handler for `Exception` sits in its outermost middleware and re-raises after answering, and
uvicorn then closes the connection: a kept-alive client's next request on it failed (uvicorn 0.55, Starlette
1.10). Answering here, inside the app, ends the request normally and the connection stays usable. An exception
after the answer has started cannot be answered any more and is re-raised.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trayscan.api.errors import internal_error_response


class InternalErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception as error:
            if started:
                raise
            await internal_error_response(error)(scope, receive, send)
