from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from trayscan.api import create_app
from trayscan.catalog import Catalog
from trayscan.config import Settings

from .builders import BLUE, GREEN, RED, YELLOW, Design, encode, product_photo
from .fakes import BlobDetector, HistogramEmbedder

ADMIN_TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

COLA: Design = (RED, BLUE)
LEMONADE: Design = (YELLOW, GREEN)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "admin_token": ADMIN_TOKEN,
        "data_dir": tmp_path / "var",
        "gallery": {"dir": tmp_path / "gallery"},
        "demo": {"enabled": False},
        "pipeline": {"similarity_threshold": 0.8, "confusable_similarity": 0.9},
        "server": {"cpu_threads": 2},
    }
    for key, value in overrides.items():
        values[key] = {**values[key], **value} if isinstance(value, dict) and key in values else value
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path, database: str | None) -> Settings:
    return make_settings(tmp_path, database_url=database)


@pytest.fixture
def catalog(settings: Settings) -> Iterator[Catalog]:
    catalog = Catalog.open(settings.sqlalchemy_url)
    yield catalog
    catalog.close()


@pytest.fixture
def client(
    settings: Settings, detector: BlobDetector, embedder: HistogramEmbedder, catalog: Catalog
) -> Iterator[TestClient]:
    app = create_app(settings, detector=detector, embedder=embedder, catalog=catalog)
    with TestClient(app) as test_client:
        yield test_client


def create_product(
    client: TestClient, sku: str, price: str = "3.50", name: str | None = None
) -> dict[str, Any]:
    response = client.post(
        "/v1/admin/products", json={"sku": sku, "name": name or sku.title(), "price": price}, headers=ADMIN
    )
    assert response.status_code == 201, response.text
    return response.json()


def enrol(client: TestClient, sku: str, design: Design, photos: int = 2) -> dict[str, Any]:
    files = [
        ("images", (f"{i}.png", encode(product_photo(design, box=(90 + 5 * i, 50, 230, 190))), "image/png"))
        for i in range(photos)
    ]
    response = client.post(f"/v1/admin/products/{sku}/images", files=files, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def stocked(client: TestClient) -> TestClient:
    """A service with two enrolled products: COLA 3.50 and LEMONADE 2.25."""
    create_product(client, "COLA", "3.50")
    create_product(client, "LEMONADE", "2.25")
    enrol(client, "COLA", COLA)
    enrol(client, "LEMONADE", LEMONADE)
    return client
