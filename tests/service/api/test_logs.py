"""JSON log lines with the request id; the access log leaves out health polls and metric scrapes."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from trayscan.api.concurrency import CpuRunner
from trayscan.logs import bind_request_id, configure_logging, remove_logging_handler


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    configure_logging("info", "json", stream)
    yield stream
    remove_logging_handler()
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def access_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [line for line in lines(stream) if line.get("logger") == "trayscan.access"]


def test_access_log_is_json_with_request_id_and_no_health_polls(
    stocked: TestClient, log_stream: io.StringIO
) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/readyz"):
        assert stocked.get(path).status_code == 200
    response = stocked.get("/v1/products/COLA")
    missing = stocked.get("/v1/products/NOPE", headers={"X-Request-ID": "till-7.0042"})
    [found, not_found] = access_lines(log_stream)
    assert found["event"] == "request" and found["level"] == "info"
    assert (found["method"], found["path"], found["route"], found["status"]) == (
        "GET",
        "/v1/products/COLA",
        "/v1/products/{sku}",
        200,
    )
    assert found["request_id"] == response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", found["request_id"])
    assert found["duration_ms"] >= 0 and "timestamp" in found
    assert not_found["status"] == 404
    assert not_found["request_id"] == missing.headers["X-Request-ID"] == "till-7.0042"


@pytest.mark.parametrize("given", ["", "a b", "x" * 129, "id;drop", "line\\nbreak"])
def test_an_unusable_request_id_is_replaced(client: TestClient, given: str) -> None:
    returned = client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", returned)


def test_lines_logged_from_a_worker_thread_carry_the_request_id(log_stream: io.StringIO) -> None:
    def work() -> None:
        logging.getLogger("trayscan.pipeline").warning("slow crop", extra={"crop": 3})

    async def request() -> None:
        with bind_request_id("req-1"):
            await CpuRunner(1).run(work)
        work()  # outside a request: no id

    # in a thread of its own: the browser tests' Playwright keeps an event loop running in the main thread
    thread = threading.Thread(target=anyio.run, args=(request,))
    thread.start()
    thread.join(timeout=30)
    inside, outside = [line for line in lines(log_stream) if line["event"] == "slow crop"]
    assert inside["request_id"] == "req-1" and inside["crop"] == 3 and inside["level"] == "warning"
    assert inside["logger"] == "trayscan.pipeline"
    assert "request_id" not in outside


def test_text_format_is_one_readable_line(log_stream: io.StringIO) -> None:
    text = io.StringIO()
    configure_logging("info", "text", text)  # replaces the JSON handler: one handler, not two
    logging.getLogger("trayscan.test").info("gallery loaded", extra={"vectors": 12})
    assert log_stream.getvalue() == ""
    [line] = text.getvalue().splitlines()
    assert "gallery loaded" in line and "vectors=12" in line


def test_uvicorn_lines_are_json_without_their_coloured_copy(log_stream: io.StringIO) -> None:
    # warning: a uvicorn.Config made by an earlier test may have left the uvicorn loggers at that level
    logging.getLogger("uvicorn.error").warning("Started server process [%d]", 7, extra={"color_message": "\x1b[36m"})
    [line] = lines(log_stream)
    assert line["event"] == "Started server process [7]" and "color_message" not in line
