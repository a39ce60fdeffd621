"""gallery/follow.py: an index follows the PostgreSQL catalog's gallery through LISTEN/NOTIFY, also across a lost
connection; a notification it cannot read makes it catch up with the whole catalog."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from trayscan.catalog import Catalog
from trayscan.catalog.repository import NewImage
from trayscan.gallery.follow import GalleryFollower, follows_catalog, libpq_url
from trayscan.gallery.index import GalleryIndex, IndexParams

DIM = 8
EMBEDDER = "follow-test"


def params() -> IndexParams:
    return IndexParams(dim=DIM, hnsw_m=8, ef_construction=16, ef_search=16)


def add_images(catalog: Catalog, sku: str, count: int) -> list[int]:
    rng = np.random.default_rng(count)
    images = [
        NewImage(f"{sku}/{i}.png", (0.0, 0.0, 1.0, 1.0), rng.standard_normal(DIM).astype(np.float32), EMBEDDER)
        for i in range(count)
    ]
    with catalog.transaction() as session:
        return catalog.add_images(session, sku, images)


def eventually(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Correctness, not speed: tests/ops/test_replicas.py holds replicas to the 2 s bound. A loaded machine (load
    average 10 on 2 cores, 2026-12-03) took over 2 s just to connect and catch up."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        time.sleep(0.02)


@pytest.fixture
def pg_catalog(postgres_server: str) -> Iterator[tuple[str, Catalog]]:
    from tests.postgres import fresh_database

    with fresh_database(postgres_server) as url:
        catalog = Catalog.open(url)
        catalog.create_product("COLA", "Cola", Decimal("3.50"), "CNY")
        yield url, catalog
        catalog.close()


def test_only_postgresql_is_followed() -> None:
    assert follows_catalog("postgresql+psycopg://u:p@db:5432/shop")
    assert not follows_catalog("sqlite:///var/catalog.db")
    assert libpq_url("postgresql+psycopg://u:p%40x@db:5432/shop") == "postgresql://u:p%40x@db:5432/shop"


def test_index_follows_inserts_and_deletes_and_survives_a_lost_connection(
    pg_catalog: tuple[str, Catalog],
) -> None:
    import psycopg

    url, catalog = pg_catalog
    gallery = GalleryIndex(params(), EMBEDDER)
    before = add_images(catalog, "COLA", 2)  # committed before the follower starts: caught up at connect
    follower = GalleryFollower(url, gallery, catalog, reconnect_s=0.2)
    follower.start()
    try:
        eventually(follower.listening.is_set)
        assert gallery.live_ids == set(before)
        added = add_images(catalog, "COLA", 3)
        eventually(lambda: gallery.live_ids == set(before) | set(added))
        catalog.delete_image(added[0])
        eventually(lambda: added[0] not in gallery.live_ids)

        # the database drops the follower's connection; what commits meanwhile is caught up after reconnecting
        with psycopg.connect(libpq_url(url), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
        eventually(lambda: not follower.listening.is_set())
        while_away = add_images(catalog, "COLA", 1)
        eventually(lambda: set(while_away) <= gallery.live_ids)
        catalog.delete_product("COLA")  # ON DELETE CASCADE removes the images: notified too
        eventually(lambda: gallery.live_count == 0)
    finally:
        follower.stop()


def test_an_unreadable_notification_catches_up_with_the_catalog(tmp_path: Path) -> None:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'c.db'}")
    catalog.create_product("COLA", "Cola", Decimal("3.50"), "CNY")
    ids = add_images(catalog, "COLA", 2)
    gallery = GalleryIndex(params(), EMBEDDER)
    follower = GalleryFollower("postgresql+psycopg://unused@127.0.0.1:1/x", gallery, catalog)
    follower.apply("{not json")
    assert gallery.live_ids == set(ids)
    follower.apply(json.dumps({"op": "insert", "ids": [ids[0]]}))  # already indexed: skipped, no error
    follower.apply(json.dumps({"op": "delete", "ids": [ids[1]]}))
    assert gallery.live_ids == {ids[0]}
    catalog.close()
