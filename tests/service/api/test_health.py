from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from trayscan import compose
from trayscan.api import create_app
from trayscan.api import lifespan as lifespan_module

from ..builders import encode, tray
from ..conftest import make_settings
from ..fakes import BlobDetector, HistogramEmbedder


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_when_loaded(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True and all(body["components"].values())
    assert body["gallery_size"] == 0


def test_not_ready_when_models_cannot_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(settings):
        raise FileNotFoundError("no detector in models/detector/mainbody")

    monkeypatch.setattr(compose, "load_models", missing)
    with TestClient(create_app(make_settings(tmp_path))) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["reason"] == "FileNotFoundError: no detector in models/detector/mainbody"
        assert ready.json()["code"] == "not_ready"  # the error body's fields, as on every error answer
        assert ready.json()["detail"] == "service not ready: FileNotFoundError: no detector in models/detector/mainbody"
        response = client.post("/v1/checkout", files={"image": ("t.png", encode(tray([])), "image/png")})
        assert response.status_code == 503
        assert response.json() == {
            "code": "not_ready",
            "detail": "service not ready: FileNotFoundError: no detector in models/detector/mainbody",
        }


def test_models_are_loaded_through_the_inference_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def load_detector(path, engine, threads):
        calls.append(("detector", path, engine, threads))
        return BlobDetector()

    def load_embedder(path, engine, threads):
        calls.append(("embedder", path, engine, threads))
        return HistogramEmbedder()

    monkeypatch.setattr(compose, "load_detector", load_detector)
    monkeypatch.setattr(compose, "load_embedder", load_embedder)
    settings = make_settings(tmp_path)
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").status_code == 200
    assert calls == [
        ("detector", settings.models.detector_dir, "onnxruntime", 2),
        ("embedder", settings.models.embedder_dir, "onnxruntime", 2),
    ]


def test_background_startup_is_live_before_ready(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loading = threading.Event()
    release = threading.Event()
    real_build = lifespan_module.build_services

    def slow_build(settings, parts):
        loading.set()
        assert release.wait(10)
        return real_build(settings, parts)

    monkeypatch.setattr(lifespan_module, "build_services", slow_build)
    settings = make_settings(tmp_path, server={"background_startup": True})
    with TestClient(create_app(settings, detector=BlobDetector(), embedder=HistogramEmbedder())) as client:
        assert loading.wait(10)
        assert client.get("/healthz").status_code == 200
        starting = client.get("/readyz")
        assert (starting.status_code, starting.json()["reason"]) == (503, "still starting")
        release.set()
        deadline = time.monotonic() + 10
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.02)
