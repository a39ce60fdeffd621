"""`trayscan train detector`: a whole-model pretrained start (--init), several validation sets, and a training-time
budget (--max-train-s) for comparisons of starts at equal time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from trayscan.train.detector import init_whole, parse_args

REPO = Path(__file__).resolve().parents[2]
TRAIN_BIN = REPO / ".venv-train" / "bin" / "trayscan"
MAINBODY_INIT = REPO / "build" / "pretrained" / "paddle" / "picodet_lcnet_x1_0_mainbody_init.pdparams"


def test_validation_sets_repeat_and_the_budget_defaults_to_none() -> None:
    args = parse_args(["--data", "a", "--val", "v1", "--val", "v2"])
    assert args.val == [Path("v1"), Path("v2")] and args.max_train_s == 0.0 and args.init is None


def test_a_whole_model_start_that_does_not_fit_names_what_differs(tmp_path: Path) -> None:
    paddle = pytest.importorskip("paddle")
    model = paddle.nn.Sequential(paddle.nn.Linear(4, 3), paddle.nn.Linear(3, 2))
    other = paddle.nn.Sequential(paddle.nn.Linear(4, 5), paddle.nn.Linear(5, 2))
    path = tmp_path / "other.pdparams"
    paddle.save(other.state_dict(), str(path))
    with pytest.raises(SystemExit, match=r"other shapes \['0.weight', '0.bias', '1.weight'\]"):
        init_whole(model, path)
    paddle.save({k: v for k, v in model.state_dict().items() if k != "1.bias"}, str(path))
    with pytest.raises(SystemExit, match=r"missing \['1.bias'\]"):
        init_whole(model, path)
    fitting = paddle.nn.Sequential(paddle.nn.Linear(4, 3), paddle.nn.Linear(3, 2))
    paddle.save(fitting.state_dict(), str(path))
    init_whole(model, path)
    assert all((model.state_dict()[k] == v).all() for k, v in fitting.state_dict().items())


@pytest.fixture(scope="module")
def trays(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("trays")
    subprocess.run([sys.executable, "-m", "trayscan.cli", "synth", "--out", str(out), "--seed", "1",
                    "--families", "3", "--trays", "4", "--enrol-per-sku", "0", "--tray-skus", "all"],
                   check=True, capture_output=True, cwd=REPO)
    return out


@pytest.mark.slow
def test_pretrained_start_trains_and_stops_at_its_time_budget(trays: Path, tmp_path: Path) -> None:
    """In the training venv: the imported layout detector starts all 491 tensors; the run stops with a checkpoint
    once its budget is spent, long before its 500 steps, and --resume with a larger budget goes on from there."""
    if not TRAIN_BIN.is_file() or not MAINBODY_INIT.is_file():
        pytest.skip("training venv or imported weights absent: `make train-env` builds both")
    work = tmp_path / "work"
    cmd = [str(TRAIN_BIN), "train", "detector", "--data", str(trays), "--val", str(trays), "--val", str(trays),
           "--val-images", "1", "--arch", "picodet_lcnet_x1_0", "--size", "256", "--train-sizes", "256",
           "--steps", "500", "--batch-size", "2", "--threads", "1", "--init", str(MAINBODY_INIT),
           "--work-dir", str(work), "--resume"]
    first = subprocess.run([*cmd, "--max-train-s", "1"], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    assert "init: copied 491/491 tensors" in first.stdout
    state = json.loads((work / "last.json").read_text())
    assert 1 <= state["step"] < 500 and "stopped at step" in first.stdout
    assert state["start"] == f"whole:{MAINBODY_INIT}" and len(state["val"]) == 2
    second = subprocess.run([*cmd, "--max-train-s", str(state["train_s"] + 1)], capture_output=True, text=True,
                            cwd=REPO, timeout=600)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    assert f"resumed at step {state['step']}" in second.stdout and "init: copied" not in second.stdout
    resumed = json.loads((work / "last.json").read_text())
    assert resumed["step"] > state["step"] and resumed["start"] == state["start"]  # the start outlives resumes
