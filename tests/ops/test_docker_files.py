"""docker/: what can be checked without a container runtime (none runs on the machines this is developed on):
the image is multi-stage, runs as a non-root user with a healthcheck on /readyz; compose has two API replicas on
one PostgreSQL behind nginx, each with its own index volume; nginx.conf is valid for Debian's nginx."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from .topology import nginx_path

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def instructions(text: str) -> list[tuple[str, str]]:
    joined = text.replace("\\\n", " ")
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def test_image_is_multi_stage_non_root_with_a_readiness_healthcheck() -> None:
    steps = instructions((DOCKER / "Dockerfile").read_text())
    stages = [args for op, args in steps if op == "FROM"]
    assert len(stages) >= 2 and " AS build" in stages[0]
    final = steps[max(i for i, (op, _) in enumerate(steps) if op == "FROM") :]
    users = [args for op, args in final if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(op == "COPY" and args.startswith("--from=build") for op, args in final)
    [healthcheck] = [args for op, args in final if op == "HEALTHCHECK"]
    assert "/readyz" in healthcheck
    assert not any(op == "COPY" and "checkpoints" in args for op, args in final)  # training weights stay out


def test_compose_runs_two_replicas_on_one_postgresql_behind_nginx() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "api-a", "api-b", "nginx"}
    replicas = [services["api-a"], services["api-b"]]
    for api in replicas:
        assert api["depends_on"]["db"]["condition"] == "service_healthy"
        assert "@db:5432/" in api["environment"]["TRAYSCAN_DATABASE_URL"]
    photos = [{v.split(":")[0]: v.split(":")[1] for v in api["volumes"]} for api in replicas]
    assert photos[0]["photos"] == photos[1]["photos"]  # enrolment photos shared
    assert photos[0].get("gallery-a") and photos[1].get("gallery-b")  # an index of its own each
    assert "healthcheck" in services["db"]
    nginx_conf = (DOCKER / "nginx.conf").read_text()
    assert "server api-a:8000" in nginx_conf and "server api-b:8000" in nginx_conf


def test_nginx_conf_is_valid(tmp_path: Path) -> None:
    executable = nginx_path()
    if executable is None:
        pytest.skip("Debian nginx is not installed: `make test` installs it")
    # compose's service names resolve only inside its network: check the syntax with them on loopback
    text = (DOCKER / "nginx.conf").read_text().replace("api-a:", "127.0.0.1:").replace("api-b:", "127.0.0.2:")
    text = text.replace("events {", f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{", 1)
    config = tmp_path / "nginx.conf"
    config.write_text(text)
    done = subprocess.run(
        [executable, "-t", "-p", str(tmp_path), "-c", str(config)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
