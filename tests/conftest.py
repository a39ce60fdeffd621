"""Fixtures shared by the service and evaluation tests: the fake models that stand in for the real ones."""

from __future__ import annotations

import pytest

from tests.service.fakes import BlobDetector, HistogramEmbedder


@pytest.fixture
def detector() -> BlobDetector:
    return BlobDetector()


@pytest.fixture
def embedder() -> HistogramEmbedder:
    return HistogramEmbedder()
