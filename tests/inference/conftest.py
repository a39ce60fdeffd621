from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def tiny_embedder_dir() -> Path:
    return FIXTURES / "tiny_embedder"


@pytest.fixture
def tiny_detector_dir() -> Path:
    return FIXTURES / "tiny_detector"
