"""Issue 22, deliverable 6: admin writes rate-limited, CORS only for configured origins."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from trayscan.api import create_app
from trayscan.api.rate_limit import TokenBuckets

from ..conftest import ADMIN, make_settings
from ..fakes import BlobDetector, HistogramEmbedder


def serve(tmp_path: Path, **overrides: object) -> TestClient:
    settings = make_settings(tmp_path, **overrides)
    return TestClient(create_app(settings, detector=BlobDetector(), embedder=HistogramEmbedder()))


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[TestClient]:
    with serve(tmp_path, limits={"admin_writes_per_minute": 3}) as client:
        yield client


def test_admin_writes_over_the_rate_are_429_with_retry_after(limited: TestClient) -> None:
    for sku in ("A", "B", "C"):
        body = {"sku": sku, "name": sku, "price": "1.00"}
        assert limited.post("/v1/admin/products", json=body, headers=ADMIN).status_code == 201
    response = limited.patch("/v1/admin/products/A", json={"price": "2.00"}, headers=ADMIN)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "20"  # 3 a minute: one every 20 s
    assert response.json() == {"code": "too_many_requests", "detail": "too many admin writes: retry in 20 s"}
    assert limited.get("/v1/products/A").json()["price"] == "1.00"  # the refused write changed nothing
    assert limited.get("/v1/admin/products/A/images", headers=ADMIN).status_code == 200  # reads go on
    assert limited.get("/v1/products").status_code == 200


def test_behind_the_balancer_each_forwarded_client_has_its_own_bucket(tmp_path: Path) -> None:
    # As `trayscan serve` runs uvicorn: X-Forwarded-For (set by nginx, docker/nginx.conf) names the client when the
    # peer is trusted (server.forwarded_allow_ips), so one busy clerk does not lock out every other.
    import httpx

    from tests.evaluation.live_server import live_server

    settings = make_settings(tmp_path, limits={"admin_writes_per_minute": 2})
    app = create_app(settings, detector=BlobDetector(), embedder=HistogramEmbedder())

    def create(http: httpx.Client, sku: str, client: str) -> int:
        body = {"sku": sku, "name": sku, "price": "1.00"}
        headers = {**ADMIN, "X-Forwarded-For": client}
        return http.post("/v1/admin/products", json=body, headers=headers).status_code

    with live_server(app, proxy_headers=True, forwarded_allow_ips=["127.0.0.1"]) as url, httpx.Client(
        base_url=url, timeout=30
    ) as http:
        assert [create(http, sku, "10.0.0.1") for sku in ("A", "B", "C")] == [201, 201, 429]
        assert create(http, "D", "10.0.0.2") == 201
    # an untrusted peer cannot name another client: its own address is the bucket
    app = create_app(make_settings(tmp_path / "untrusted", limits={"admin_writes_per_minute": 2}),
                     detector=BlobDetector(), embedder=HistogramEmbedder())
    with live_server(app, proxy_headers=True, forwarded_allow_ips=["10.9.9.9"]) as url, httpx.Client(
        base_url=url, timeout=30
    ) as http:
        assert [create(http, sku, f"10.0.0.{n}") for n, sku in enumerate("ABC")] == [201, 201, 429]


def test_buckets_refill_at_the_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(60, clock=lambda: now[0])  # one a second, 60 at once
    assert all(buckets.take("a") == 0.0 for _ in range(60))
    assert buckets.take("a") == pytest.approx(1.0)
    assert buckets.take("b") == 0.0  # per client
    now[0] = 2.5
    assert buckets.take("a") == 0.0 and buckets.take("a") == 0.0
    assert buckets.take("a") > 0


def test_cors_answers_only_configured_origins(tmp_path: Path) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    with serve(tmp_path / "a", server={"cors_origins": ["https://kiosk.example"]}) as client:
        allowed = client.options("/v1/checkout", headers={**preflight, "Origin": "https://kiosk.example"})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://kiosk.example"
        other = client.get("/v1/products", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    with serve(tmp_path / "b") as client:  # the default: no origin at all
        response = client.get("/v1/products", headers={"Origin": "https://kiosk.example"})
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers
