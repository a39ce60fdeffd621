from __future__ import annotations

from pathlib import Path

import pytest

from trayscan.synth.dataset import SynthConfig, generate

SMALL = SynthConfig(seed=7, families=6, trays=6, enrol_per_sku=1, width=640, height=480)


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    generate(SMALL, out, workers=2)
    return out
