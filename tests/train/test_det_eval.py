"""`trayscan train detector-eval` on the shipped starter detector: the model alone and through fused passes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trayscan.synth.cli import main as synth_main
from trayscan.train.det_eval import main as det_eval_main

from ..starter_models import starter_model_settings


@pytest.fixture(scope="module")
def detector_dir() -> Path:
    path = starter_model_settings().detector_dir
    if not (path / "model.onnx").is_file():
        pytest.skip(f"starter detector not installed in {path}")
    return path


@pytest.fixture(scope="module")
def trays(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("trays")
    argv = ["--out", str(out), "--seed", "1", "--families", "60", "--trays", "3", "--tray-seed", "99",
            "--enrol-per-sku", "0", "--max-items", "5"]
    assert synth_main(argv) == 0
    return out


def evaluate(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "eval.json"
    assert det_eval_main([*args, "--speed-runs", "0", "--threads", "1", "--json", str(out)]) == 0
    return json.loads(out.read_text())


def test_fusing_a_detector_with_itself_changes_nothing(detector_dir: Path, trays: Path, tmp_path: Path) -> None:
    alone = evaluate(tmp_path, "--model", str(detector_dir), "--data", str(trays), "--engines", "onnxruntime")
    fused = evaluate(tmp_path, "--model", str(detector_dir), "--data", str(trays), "--fuse-with", str(detector_dir))
    assert "accuracy" not in fused  # the fused run measures the fused detector only
    assert alone["accuracy"]["recall50"] > 0.5  # the model finds the items at all
    for key in ("ap50", "recall50", "images_all_found"):
        assert fused["fused"][key] == pytest.approx(alone["accuracy"][key], abs=1e-6), key
    assert fused["fused"]["detector"] == f"{detector_dir.name}+{detector_dir.name}"


def test_mirrored_passes_are_measured(detector_dir: Path, trays: Path, tmp_path: Path) -> None:
    fused = evaluate(tmp_path, "--model", str(detector_dir), "--data", str(trays), "--mirror")
    assert fused["fused"]["detector"].endswith("+mirror")
    assert 0.0 < fused["fused"]["recall50"] <= 1.0
