from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from trayscan.api.metrics import ServiceMetrics

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
async def metrics(request: Request) -> Response:
    """Prometheus text format: requests and latency per route and status, pipeline stages, enrolments, errors,
    gallery size and version."""
    service_metrics: ServiceMetrics = request.app.state.metrics
    return Response(generate_latest(service_metrics.registry), media_type=CONTENT_TYPE_LATEST)
