"""Family batches (a PK sampler over sibling SKUs) and the triplet angular margin loss of the embedder's training."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trayscan.train.crops import CropSet
from trayscan.train.embedder_data import WORLD_LABEL_STRIDE, BatchSampler, FamilyBatches


def _crops(labels: list[int]) -> CropSet:
    n = len(labels)
    side = 24
    return CropSet(buffer=np.full(n * side * side * 3, 128, np.uint8),
                   offsets=np.arange(n + 1, dtype=np.int64) * side * side * 3,
                   shapes=np.tile(np.array([side, side, 3], np.int32), (n, 1)),
                   boxes=np.tile(np.array([2, 2, 22, 22], np.float32), (n, 1)),
                   labels=np.array(labels, np.int32), source=np.zeros(n, np.uint8), visible=np.ones(n, np.float32))


def test_family_batches_hold_siblings_in_pairs() -> None:
    # families: A has 5 SKUs, B 2, C 1
    family_of = {1: "A", 2: "A", 3: "A", 4: "A", 5: "A", 6: "B", 7: "B", 8: "C"}
    labels = [c for c in family_of for _ in range(3)]
    class_of = {c: i for i, c in enumerate(sorted(family_of))}
    sampler = BatchSampler(_crops(labels), class_of, 16, 0.0, seed=0, families=FamilyBatches(family_of, skus=4))
    for step in range(5):
        _, y = sampler.batch(step, 16)
        classes = [sorted(class_of)[i] for i in y[:, 0]]
        # consecutive pairs are one SKU; consecutive groups never mix families
        assert all(classes[i] == classes[i + 1] for i in range(0, 16, 2))
        fams = [family_of[c] for c in classes]
        runs = [fams[0]] + [f for a, f in zip(fams, fams[1:], strict=False) if f != a]
        assert all(r in "ABC" for r in runs)
        # no family gives more than 4 SKUs per draw
        assert max(len(set(classes[i:i + 8])) for i in range(0, 16, 8)) <= 4


def test_class_balanced_batches_are_unchanged_without_families() -> None:
    labels = [1, 1, 2, 2, 3, 3]
    class_of = {1: 0, 2: 1, 3: 2}
    a = BatchSampler(_crops(labels), class_of, 16, 0.0, seed=3).batch(7, 8)
    b = BatchSampler(_crops(labels), class_of, 16, 0.0, seed=3).batch(7, 8)
    assert np.array_equal(a[1], b[1]) and np.allclose(a[0], b[0])


@pytest.mark.parametrize("families", [False, True])
def test_world_weights_set_how_often_each_world_is_drawn(families: bool) -> None:
    # world 0: 4 classes in 2 families; world 1: 4 classes in 2 families, weighted 0.25
    family_of = {c + w * WORLD_LABEL_STRIDE: f"{w}:{c // 3}" for w in (0, 1) for c in (1, 2, 3, 4)}
    labels = [c for c in family_of for _ in range(2)]
    class_of = {c: i for i, c in enumerate(sorted(family_of))}
    sampler = BatchSampler(_crops(labels), class_of, 16, 0.0, seed=0, world_weights=[1.0, 0.25],
                           families=FamilyBatches(family_of, skus=2) if families else None)
    drawn = np.concatenate([sampler._classes(np.random.default_rng(k), 64) for k in range(50)])
    share = float((drawn >= WORLD_LABEL_STRIDE).mean())
    assert share == pytest.approx(0.2, abs=0.03)  # 0.25 / (1 + 0.25)
    with pytest.raises(ValueError, match="world weights"):
        BatchSampler(_crops(labels), class_of, 16, 0.0, seed=0, world_weights=[1.0])


def test_triplet_loss_is_zero_when_siblings_are_far_and_positive_when_close() -> None:
    paddle = pytest.importorskip("paddle")
    from trayscan.train.embedder_model import triplet_angular_margin

    labels = paddle.to_tensor(np.array([0, 0, 1, 1], np.int64))
    apart = paddle.to_tensor(np.array([[1, 0], [1, 0], [-1, 0], [-1, 0]], np.float32))
    close = paddle.to_tensor(np.array([[1, 0], [1, 0.1], [1, 0.05], [1, -0.1]], np.float32))
    assert float(triplet_angular_margin(apart, labels)) == pytest.approx(0.0, abs=1e-6)
    assert float(triplet_angular_margin(close, labels)) > 0.4


@pytest.mark.slow
def test_family_batch_training_with_the_triplet_loss_runs_and_exports(tmp_path: Path) -> None:
    """In the training venv: a few steps of family batches with the triplet term from PULC's pretrained x1.0
    backbone (the recipe of the embedder's starts), exported as the service loads it."""
    repo = Path(__file__).resolve().parents[2]
    train_bin = repo / ".venv-train" / "bin" / "trayscan"
    pulc = repo / "build" / "pretrained" / "paddle" / "pplcnet_x1_0_pulc_orientation_rec_backbone.pdparams"
    if not train_bin.is_file() or not pulc.is_file():
        pytest.skip("training venv or imported weights absent: `make train-env` builds both")
    world = tmp_path / "world"
    subprocess.run([sys.executable, "-m", "trayscan.cli", "synth", "--out", str(world), "--seed", "1", "--families",
                    "3", "--trays", "4", "--enrol-per-sku", "2", "--tray-skus", "all"], check=True, cwd=repo,
                   capture_output=True)
    out = tmp_path / "model"
    run = subprocess.run([str(train_bin), "train", "embedder", "--data", str(world), "--out", str(out), "--ckpt-dir",
                          str(tmp_path / "ckpt"), "--scale", "1.0", "--size", "32", "--batch", "8", "--steps", "3",
                          "--threads", "1", "--workers", "0", "--init", str(pulc), "--family-batches",
                          "--family-skus", "2", "--triplet-weight", "1.0"], capture_output=True, text=True, cwd=repo,
                         timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "backbone from" in run.stdout
    state = json.loads((out / "training.json").read_text())
    assert state["step"] == 3 and state["args"]["family_batches"] and state["args"]["triplet_weight"] == 1.0
    assert (out / "inference.onnx").is_file()
