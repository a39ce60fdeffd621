"""The kiosk and staff pages: static HTML/CSS/JS shipped inside the package (`trayscan/web/`), no build step.

`GET /kiosk` and `GET /admin` answer the pages; their scripts and styles are under `GET /static/<name>`. Files
are read through `importlib.resources`, so the pages work from an installed wheel as well as from a checkout.
"""

from __future__ import annotations

import mimetypes
from importlib.resources import files
from importlib.resources.abc import Traversable

from fastapi import APIRouter, HTTPException
from fastapi.responses import RedirectResponse, Response

router = APIRouter(include_in_schema=False)

WEB_ROOT: Traversable = files("trayscan") / "web"
STATIC_ROOT: Traversable = WEB_ROOT / "static"

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}

# Only our own files run; photos are shown from blob: URLs and the camera stream from mediastream:.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self)",
    "Cache-Control": "no-cache",
}
ASSET_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}


def _media_type(name: str) -> str:
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def _page(name: str) -> Response:
    return Response((WEB_ROOT / name).read_bytes(), media_type=MEDIA_TYPES[".html"], headers=PAGE_HEADERS)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/kiosk")


@router.get("/kiosk")
async def kiosk_page() -> Response:
    """The self-checkout page a shopper sees."""
    return _page("kiosk.html")


@router.get("/admin")
async def admin_page() -> Response:
    """The staff page: sign in with the admin token, enrol and edit products."""
    return _page("admin.html")


@router.get("/static/{name}")
async def static_asset(name: str) -> Response:
    # Only names listed in the folder are served: no path is ever built from the request.
    assets = {entry.name: entry for entry in STATIC_ROOT.iterdir() if entry.is_file()}
    entry = assets.get(name)
    if entry is None:
        raise HTTPException(404, f"no static file {name!r}")
    return Response(entry.read_bytes(), media_type=_media_type(name), headers=ASSET_HEADERS)
