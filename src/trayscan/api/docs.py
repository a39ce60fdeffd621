"""The API documentation pages, /docs (Swagger UI) and /redoc (ReDoc), with no request off the service.

The pages and their scripts come from fastapi-offline (see `create_app`). ReDoc 2's sidebar still shows a logo
from its makers' CDN; a Content-Security-Policy on the two pages keeps the browser from asking for it (or for
anything else that is not the service's own), so they render the same on a store network with no internet.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOC_PATHS = frozenset({"/docs", "/redoc"})

# Both pages start their bundle from an inline script and ReDoc styles itself inline and runs a blob: worker.
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
    ]
)


class DocsPolicyMiddleware:
    """Adds the policy above to the responses of the documentation pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in DOC_PATHS:
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
            await send(message)

        await self.app(scope, receive, send_with_policy)
