"""A real PostgreSQL for the catalog tests: the project's script starts a throwaway cluster, each test gets a
fresh database in it."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATABASES = ["sqlite", "postgresql"]  # for pytest.mark.parametrize("database", DATABASES, indirect=True)
CLUSTER_DIR = REPO / "build" / "postgres-tests"
PORT = "55433"


def start_server() -> str:
    """SQLAlchemy URL of the cluster's maintenance database; raises if PostgreSQL cannot be started."""
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "start_postgres.sh"), str(CLUSTER_DIR), PORT],
        capture_output=True, text=True, timeout=120, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip() or done.stdout.strip() or "start_postgres.sh failed")
    return done.stdout.strip().splitlines()[-1]


def stop_server() -> None:
    """Stop the test cluster (a daemon: it would outlive the test run)."""
    subprocess.run(
        ["bash", str(REPO / "scripts" / "stop_postgres.sh"), str(CLUSTER_DIR)],
        capture_output=True, timeout=60, check=False,
    )


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
