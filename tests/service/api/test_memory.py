"""Issue 22, item 5: eight concurrent checkouts of small files declaring 6000x6000 pixels add under 600 MB.

Before the decode budget and the one-copy decode (2026-12-03) eight 105 kB all-zero PNGs took a server from
0.58 to 2.4 GB. Measured in a process of its own (tests/service/api/memory_probe.py), so the peak is this run's.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LIMIT_MB = 600


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_eight_concurrent_decompression_bombs_add_under_600_mb(kind: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.service.api.memory_probe", "--kind", kind, "--clients", "8"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
    )
    line = result.stdout.strip().splitlines()[-1]
    assert "statuses=[503]" in line, line  # each was decoded, then refused: the gallery is empty
    growth = float(re.search(r"growth=(-?\d+)", line).group(1))  # type: ignore[union-attr]
    assert growth < LIMIT_MB, line
