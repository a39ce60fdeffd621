"""The embedded default: an empty service seeds the demo catalog from the synthetic world on first start."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from trayscan.api import create_app
from trayscan.catalog import Catalog

from ..conftest import make_settings
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
