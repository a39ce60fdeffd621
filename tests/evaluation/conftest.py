from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.evaluation.world import write_world
from tests.service.fakes import BlobDetector, HistogramEmbedder
from trayscan.config import Settings
from trayscan.evaluation.local import empty_service, enrol_catalog, read_catalog
from trayscan.services import Services


@pytest.fixture
def settings() -> Settings:
    return Settings(demo={"enabled": False}, pipeline={"similarity_threshold": 0.8})


@pytest.fixture
def world(tmp_path: Path, detector: BlobDetector) -> Path:
    return write_world(tmp_path / "world", detector)


@pytest.fixture
def service(
    tmp_path: Path, world: Path, detector: BlobDetector, embedder: HistogramEmbedder, settings: Settings
) -> Iterator[Services]:
    services = empty_service(detector, embedder, settings, tmp_path / "work")
    report = enrol_catalog(services, read_catalog(world / "catalog.csv", settings), world / "enrol")
    assert report.products_created == 6 and report.images_enrolled == 6
    yield services
    services.catalog.close()
