"""Replicas that start together migrate one PostgreSQL catalog one at a time (an advisory lock): without it,
three threads migrating a fresh database at once had not finished after 60 s (2026-12-03)."""

from __future__ import annotations

import threading

from tests.postgres import fresh_database
from trayscan.catalog import Catalog


def test_replicas_starting_together_all_open_the_catalog(postgres_server: str) -> None:
    with fresh_database(postgres_server) as url:
        barrier = threading.Barrier(3)
        errors: list[BaseException] = []
        opened: list[int] = []

        def start_replica() -> None:
            barrier.wait()
            try:
                catalog = Catalog.open(url)
                opened.append(catalog.list_products()[1])
                catalog.close()
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=start_replica, daemon=True) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads), "a migration is still waiting after 60 s"
        assert errors == [] and opened == [0, 0, 0]
