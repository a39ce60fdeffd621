from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from trayscan.api import cli as serve_cli
from trayscan.cli import main as trayscan_main


def test_serve_builds_the_app_from_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "serve.yaml"
    config.write_text("admin_token: s3cret\nserver:\n  host: 0.0.0.0\n  port: 9000\ndemo:\n  enabled: false\n")
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(serve_cli.uvicorn, "run", lambda app, **kwargs: calls.append({"app": app, **kwargs}))
    logging_calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(serve_cli, "configure_logging", lambda *args: logging_calls.append(args))
    assert trayscan_main(["serve", "--config", str(config), "--port", "9100"]) == 0
    [call] = calls
    assert logging_calls == [("info", "json")]
    # the app writes the access log (JSON, request id, no health polls); uvicorn keeps its hands off logging
    assert call["access_log"] is False and call["log_config"] is None
    assert isinstance(call["app"], FastAPI)
    assert (call["host"], call["port"]) == ("0.0.0.0", 9100)
    assert call["app"].state.settings.server.port == 9100
    # behind the balancer the client is the one X-Forwarded-For names, from trusted peers only
    assert call["proxy_headers"] is True and call["forwarded_allow_ips"] == ["127.0.0.1"]


def test_serve_refuses_bad_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "prod.yaml"
    config.write_text("environment: production\n")
    assert trayscan_main(["serve", "--config", str(config)]) == 2
    assert "placeholder admin token is refused" in capsys.readouterr().err


def test_serve_refuses_the_placeholder_token_without_the_development_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "dev.yaml"
    config.write_text("environment: development\ndemo:\n  enabled: false\n")
    monkeypatch.delenv("TRAYSCAN_ADMIN_TOKEN", raising=False)
    calls: list[object] = []
    monkeypatch.setattr(serve_cli.uvicorn, "run", lambda app, **kwargs: calls.append(app))
    assert trayscan_main(["serve", "--config", str(config)]) == 2
    assert "refusing the placeholder admin token" in capsys.readouterr().err
    assert calls == []
    monkeypatch.setenv("TRAYSCAN_ALLOW_PLACEHOLDER_TOKEN", "1")
    assert trayscan_main(["serve", "--config", str(config)]) == 0
    assert "development: the admin token is the placeholder 'changeme'" in capsys.readouterr().err
    assert len(calls) == 1
