"""Typed dependencies of the routes: the loaded services, the CPU runner, admin authentication, uploads."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, UploadFile
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from trayscan.api.concurrency import CpuRunner
from trayscan.api.metrics import ServiceMetrics
from trayscan.config import Settings
from trayscan.errors import ImageTooLargeError, ServiceNotReadyError
from trayscan.services import Services


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_services(request: Request) -> Services:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        reason = getattr(request.app.state, "startup_error", None) or "still starting"
        raise ServiceNotReadyError(f"service not ready: {reason}")
    return services


def get_runner(request: Request) -> CpuRunner:
    runner: CpuRunner = request.app.state.runner
    return runner


def get_metrics(request: Request) -> ServiceMetrics:
    metrics: ServiceMetrics = request.app.state.metrics
    return metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
ServicesDep = Annotated[Services, Depends(get_services)]
RunnerDep = Annotated[CpuRunner, Depends(get_runner)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]

_bearer = HTTPBearer(auto_error=False)


def require_admin(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    if credentials is None:
        raise HTTPException(401, "admin bearer token required", headers={"WWW-Authenticate": "Bearer"})
    expected = settings.admin_token.get_secret_value().encode()
    if not secrets.compare_digest(credentials.credentials.encode(), expected):
        raise HTTPException(403, "invalid admin token")


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    """The upload's bytes; reads one byte past the limit at most."""
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageTooLargeError(f"{upload.filename or 'upload'} is over the limit of {max_bytes} bytes")
    return data
