"""The embedded default: an empty service seeds the demo catalog from the synthetic world on first start."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from trayscan.api import create_app
from trayscan.catalog import Catalog
from trayscan.compose import Parts, build_services
from trayscan.gallery.enrolment import Enroller

from ..conftest import make_settings
from ..demo_world import DEMO_PRODUCTS, PHOTOS_PER_PRODUCT, write_world
from ..fakes import BlobDetector, HistogramEmbedder


@pytest.mark.slow
def test_first_start_enrols_the_demo_world_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, demo={"enabled": True, "seed": 1, "families": 1, "split": "all"})
    with TestClient(create_app(settings, detector=BlobDetector(), embedder=HistogramEmbedder())) as client:
        products = client.get("/v1/products").json()
        ready = client.get("/readyz").json()
    with (settings.demo_dir / "catalog.csv").open() as handle:
        world = list(csv.DictReader(handle))
    assert products["count"] == len(world) > 0
    assert {p["sku"]: p["price"] for p in products["data"]} == {row["sku"]: row["price"] for row in world}
    assert ready["gallery_size"] == sum(p["image_count"] for p in products["data"]) > 0

    catalog = Catalog.open(settings.sqlalchemy_url)
    catalog.delete_product(world[0]["sku"])  # staff removed a demo product: a restart must not bring it back
    catalog.close()
    with TestClient(create_app(settings, detector=BlobDetector(), embedder=HistogramEmbedder())) as client:
        assert client.get("/v1/products").json()["count"] == len(world) - 1
        assert client.get("/readyz").json()["gallery_size"] < ready["gallery_size"]


def seeding_settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, demo={"enabled": True, "split": "all"})
    write_world(settings.demo_dir)
    return settings


def test_an_interrupted_demo_seeding_is_completed_at_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22, item 8: a crash during the first start's seeding left 60 of 243 demo products for good."""
    settings = seeding_settings(tmp_path)
    real_enrol = Enroller.enrol
    calls = []

    def crash_on_the_fifth(self, sku, photos):  # type: ignore[no-untyped-def]
        calls.append(sku)
        if len(calls) == 5:
            raise KeyboardInterrupt("power cut")  # like a kill: nothing after it runs
        return real_enrol(self, sku, photos)

    monkeypatch.setattr(Enroller, "enrol", crash_on_the_fifth)
    with pytest.raises(KeyboardInterrupt):
        build_services(settings, Parts(detector=BlobDetector(), embedder=HistogramEmbedder())).catalog.close()
    monkeypatch.undo()
    catalog = Catalog.open(settings.sqlalchemy_url)
    assert len(catalog.skus()) == 5 and len(catalog.image_counts()) == 4  # the fifth has no photos
    catalog.close()

    with TestClient(create_app(settings, detector=BlobDetector(), embedder=HistogramEmbedder())) as client:
        products = client.get("/v1/products").json()
    assert products["count"] == DEMO_PRODUCTS
    assert {p["image_count"] for p in products["data"]} == {PHOTOS_PER_PRODUCT}
    assert (settings.demo_dir / "seeded").is_file()


def test_a_store_catalog_is_never_seeded(tmp_path: Path) -> None:
    settings = seeding_settings(tmp_path)
    catalog = Catalog.open(settings.sqlalchemy_url)
    catalog.create_product("TS0002", "Not the first demo product", Decimal("1.00"), "CNY")
    catalog.close()
    with TestClient(create_app(settings, detector=BlobDetector(), embedder=HistogramEmbedder())) as client:
        assert [p["sku"] for p in client.get("/v1/products").json()["data"]] == ["TS0002"]
    assert not (settings.demo_dir / "seeded").exists()
