from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from trayscan.schemas import Health, NotReady, Readiness
from trayscan.services import Services

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: the process answers."""
    return Health()


@router.get("/readyz", response_model=Readiness, responses={503: {"model": NotReady}})
async def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 only when detector, embedder, gallery and catalog are loaded."""
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        reason = getattr(request.app.state, "startup_error", None) or "still starting"
        components = dict.fromkeys(("detector", "embedder", "gallery", "catalog"), False)
        not_ready = NotReady(ready=False, components=components, reason=reason, detail=f"service not ready: {reason}")
        return JSONResponse(not_ready.model_dump(), status_code=503)
    body = Readiness(
        ready=True,
        components=dict.fromkeys(("detector", "embedder", "gallery", "catalog"), True),
        gallery_version=services.gallery.version,
        gallery_size=services.gallery.live_count,
    )
    return JSONResponse(body.model_dump())
