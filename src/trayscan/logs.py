"""Log lines as JSON objects (one a line) or as plain text, with the request id of the request they belong to.

Code logs with the standard `logging` module everywhere; structlog only renders. Fields given with
`extra={...}` become keys of the line; `request_id` comes from `bind_request_id`, which the request middleware
(`api/observe.py`) sets for the time of a request, worker threads included (anyio copies context variables into
the thread that runs CPU work).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal, TextIO

import structlog

LogFormat = Literal["json", "text"]


def _drop_colour_copy(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    event.pop("color_message", None)  # uvicorn's ANSI-coloured duplicate of the message
    return event


def _processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _drop_colour_copy,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


class _Handler(logging.StreamHandler):
    """The handler configure_logging installs (so a second call replaces it and a test can take it off)."""


def remove_logging_handler() -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(handler)


def configure_logging(level: str = "info", fmt: LogFormat = "json", stream: TextIO | None = None) -> None:
    """Route every logger (trayscan's, uvicorn's, the libraries') to one handler on `stream` (stderr)."""
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = _Handler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:  # called again: replace, never add a second
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


@contextmanager
def bind_request_id(request_id: str) -> Iterator[None]:
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        yield
