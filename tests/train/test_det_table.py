"""`trayscan train detector-table`: detector-eval JSON files as one markdown table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from trayscan.train.det_metrics import DetAccumulator
from trayscan.train.det_table import main


def _result(model: str, found_all: bool) -> dict:
    acc = DetAccumulator()
    gt = [[0, 0, 10, 10], [20, 20, 30, 30]]
    boxes = [[0, 0, 10, 10], [2, 2, 6, 6]] + ([[20, 20, 30, 30]] if found_all else [])
    scores = [0.9, 0.45] + ([0.8] if found_all else [])
    acc.add(np.array(boxes, np.float32), np.array(scores, np.float32), np.array(gt, np.float32))
    return {"model": model, "data": "data/x", "trays": 1, "accuracy": acc.summary()}


def test_one_row_a_file_with_the_threshold_s_figures(tmp_path: Path, capsys) -> None:
    files = []
    for name, found_all in (("a", True), ("b", False)):
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps(_result(name, found_all)))
    out = tmp_path / "t.md"
    assert main([*map(str, files), "--threshold", "0.4", "--markdown", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith(
        "| model | trays | AP50 | recall | recall / precision @0.4 | part / group boxes @0.4")
    # a: both items found, one part box of three shown; b: one of two found, one part box of two shown
    assert lines[2] == "| `a` | `data/x` (1) | 1.000 | 1.000 | 1.000 / 0.667 | 33.3 % / 0.0 % | 100.0 % |"
    assert lines[3] == "| `b` | `data/x` (1) | 0.500 | 0.500 | 0.500 / 0.500 | 50.0 % / 0.0 % | 0.0 % |"
    assert capsys.readouterr().out == out.read_text()
