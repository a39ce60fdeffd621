"""`trayscan train box-scorer` end to end on two tiny worlds, fake models, decoy boxes beside the true ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.evaluation.world import TRAYS, grid_box
from tests.service.fakes import BlobDetector, HistogramEmbedder
from trayscan import compose
from trayscan.pipeline.box_scorer import load_box_scorer
from trayscan.train import box_scorer as command
from trayscan.train.box_scorer import fit_logistic

BACKGROUND = (560.0, 400.0, 630.0, 470.0)  # bare tray: no item there


def add_decoys(world: Path, detector: BlobDetector) -> None:
    """Each tray: its true boxes (0.9), a box shifted off its first item (0.35) and one on bare tray (0.4)."""
    for t, skus in enumerate(TRAYS, start=1):
        photo = cv2.imread(str(world / "trays" / f"{t:06d}.png"))
        boxes = [grid_box(i) for i in range(len(skus))]
        x1, y1, x2, y2 = boxes[0]
        decoys = [(x1 + 40, y1, x2 + 40, y2), BACKGROUND]
        detector.register(photo, boxes + decoys, scores=[0.9] * len(boxes) + [0.35, 0.4])


def test_trains_a_scorer_that_tells_items_from_decoys(
    world: Path, tmp_path: Path, detector: BlobDetector, embedder: HistogramEmbedder,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(compose, "load_models", lambda settings: (detector, embedder))
    add_decoys(world, detector)
    other = Path(shutil.copytree(world, tmp_path / "other-world"))
    out = tmp_path / "scorer"
    assert command.main(["--world", f"{world}:novel", "--world", str(other), "--out", str(out), "--quiet"]) == 0
    scorer = load_box_scorer(out, detector.name, embedder.name)
    assert scorer is not None
    items = sum(len(skus) for skus in TRAYS)
    assert scorer.trained_on["items"] == 2 * items and scorer.trained_on["boxes"] == 2 * (items + 2 * len(TRAYS))
    assert scorer.trained_on["trays"] == 2 * len(TRAYS) and scorer.floor == 0.3
    assert json.loads((out / "box_scorer.json").read_text())["trained_on"]["command"].startswith(
        "trayscan train box-scorer --world"
    )
    printed = capsys.readouterr().out
    # Every receipt right with the scorer, trained on the world or only on the other one.
    assert f"| world, this scorer (trained on it) | {len(TRAYS)} | {len(TRAYS)} | 0.000 |" in printed
    assert "| other-world, a scorer fitted on the other worlds only" in printed
    assert printed.count(f"| {len(TRAYS)} | {len(TRAYS)} | 0.000 |") >= 4


def test_a_world_without_wrong_boxes_teaches_nothing(
    world: Path, tmp_path: Path, detector: BlobDetector, embedder: HistogramEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake detector finds exactly the items: no box to learn to drop, so the command says so.
    monkeypatch.setattr(compose, "load_models", lambda settings: (detector, embedder))
    with pytest.raises(SystemExit, match="nothing to tell apart"):
        command.main(["--world", str(world), "--out", str(tmp_path / "scorer"), "--quiet"])
    assert not (tmp_path / "scorer").exists()


def test_a_world_without_annotations_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="annotations.json not found"):
        command.observe_world(str(tmp_path), None, (None, None), 0.3, True, tmp_path)  # type: ignore[arg-type]
    with pytest.raises(SystemExit, match="split must be"):
        command.observe_world(f"{tmp_path}:both", None, (None, None), 0.3, True, tmp_path)  # type: ignore[arg-type]


def test_logistic_fit_finds_the_separating_direction() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 1] - 0.5 * x[:, 2] > 0).astype(float)
    mean, scale, weights, bias = fit_logistic(x, y, l2=1.0)
    assert weights[1] > 5 * abs(weights[0]) and weights[2] < -2 * abs(weights[0])
    z = (x - mean) / scale
    predicted = 1 / (1 + np.exp(-(z @ weights + bias))) >= 0.5
    assert (predicted == y.astype(bool)).mean() > 0.97
