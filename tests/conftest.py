"""Fixtures shared by the service and evaluation tests: the fake models that stand in for the real ones."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.service.fakes import BlobDetector, HistogramEmbedder


@pytest.fixture
def detector() -> BlobDetector:
    return BlobDetector()


@pytest.fixture
def embedder() -> HistogramEmbedder:
    return HistogramEmbedder()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    from tests.postgres import start_server, stop_server

    try:
        url = start_server()
    except (RuntimeError, OSError) as error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is needed under CI and did not start: {error}")
        pytest.skip(f"PostgreSQL not available here ({error}); `make test` installs it")
    yield url
    stop_server()


@pytest.fixture
def database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The catalog database of a test: None (a SQLite file, the default) or a fresh PostgreSQL database.
    Modules opt in to both with `pytest.mark.parametrize("database", DATABASES, indirect=True)`."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield None
        return
    from tests.postgres import fresh_database

    with fresh_database(request.getfixturevalue("postgres_server")) as url:
        yield url

