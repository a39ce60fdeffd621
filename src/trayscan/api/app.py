"""The app factory: `create_app(settings, detector=..., ...)`; parts not given are loaded by the lifespan."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

import trayscan
from trayscan.api.body_limit import BodyLimitMiddleware, keep_parts_in_memory
from trayscan.api.docs import DocsPolicyMiddleware
from trayscan.api.errors import install_error_handlers
from trayscan.api.internal_error import InternalErrorMiddleware
from trayscan.api.lifespan import make_lifespan
from trayscan.api.metrics import ServiceMetrics
from trayscan.api.observe import ObserveMiddleware
from trayscan.api.openapi import error_schema_openapi
from trayscan.api.rate_limit import TokenBuckets
from trayscan.api.routes import admin, checkout, feedback, health, metrics, products, web
from trayscan.catalog.repository import Catalog
from trayscan.compose import Parts
from trayscan.config import Settings, load_settings
from trayscan.gallery.index import GalleryIndex
from trayscan.inference.base import Detector, Embedder


def create_app(
    settings: Settings | None = None,
    *,
    detector: Detector | None = None,
    embedder: Embedder | None = None,
    gallery: GalleryIndex | None = None,
    catalog: Catalog | None = None,
) -> FastAPI:
    settings = settings or load_settings()
    parts = Parts(detector=detector, embedder=embedder, gallery=gallery, catalog=catalog)
    # /docs and /redoc load Swagger UI and ReDoc from fastapi-offline's files, not a CDN (no internet in stores).
    app = FastAPIOffline(
        title="trayscan",
        version=trayscan.__version__,
        description="Tray photo in, itemised receipt out; products enrolled live without retraining.",
        lifespan=make_lifespan(settings, parts),
    )
    app.state.settings = settings
    app.state.services = None
    app.state.startup_error = None
    app.add_middleware(InternalErrorMiddleware)  # added first: innermost, answers what escapes a route
    app.add_middleware(BodyLimitMiddleware, limits=settings.limits)  # per route, while the body streams in
    keep_parts_in_memory(settings.limits)  # and no photo within the limits is spooled to disk
    app.add_middleware(DocsPolicyMiddleware)
    app.state.admin_write_buckets = TokenBuckets(settings.limits.admin_writes_per_minute)
    if settings.server.cors_origins:  # only the configured origins; none by default
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.server.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
        )
    install_error_handlers(app)
    app.state.metrics = ServiceMetrics(lambda: app.state.services.gallery if app.state.services else None)
    app.add_middleware(ObserveMiddleware, metrics=app.state.metrics)  # added last: outermost, sees every answer
    routers = (health.router, metrics.router, checkout.router, feedback.public, products.router, admin.router,
               feedback.admin, web.router)
    for router in routers:
        app.include_router(router)
    app.openapi = error_schema_openapi(app)  # type: ignore[method-assign]  # every error as ErrorBody
    return app
