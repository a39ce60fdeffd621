"""Real ONNX Runtime (and, where installed, Paddle Inference) sessions on tiny exported models.

The fixtures are Paddle exports converted by paddle2onnx (tests/inference/make_fixtures.py); expected values
were computed by Paddle eagerly, so these tests check preprocessing, engine and output decoding together.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from trayscan.inference import load_detector, load_embedder
from trayscan.inference.engines import EngineError

ENGINES = ["onnx", pytest.param("paddle", marks=pytest.mark.skipif(
    importlib.util.find_spec("paddle") is None, reason="paddlepaddle not installed (extra trayscan[paddle])"))]


def _crops(expected: np.lib.npyio.NpzFile) -> list[np.ndarray]:
    return [expected[f"crop{i}"] for i in range(3)]


@pytest.mark.parametrize("engine", ENGINES)
def test_embedder_reproduces_paddle_features(tiny_embedder_dir: Path, engine: str) -> None:
    expected = np.load(tiny_embedder_dir / "expected.npz")
    embedder = load_embedder(tiny_embedder_dir, engine=engine, threads=1)
    feats = embedder.embed(_crops(expected))
    assert feats.dtype == np.float32 and feats.shape == (3, embedder.dim)
    np.testing.assert_allclose(feats, expected["features"], atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1.0, atol=1e-5)


def test_embedder_batch_equals_singles_and_empty(tiny_embedder_dir: Path) -> None:
    expected = np.load(tiny_embedder_dir / "expected.npz")
    embedder = load_embedder(tiny_embedder_dir, threads=1)
    crops = _crops(expected)
    singles = np.concatenate([embedder.embed([c]) for c in crops])
    np.testing.assert_allclose(embedder.embed(crops), singles, atol=1e-6)
    assert embedder.embed([]).shape == (0, embedder.dim)


@pytest.mark.parametrize("engine", ENGINES)
def test_detector_boxes_in_original_pixels(tiny_detector_dir: Path, engine: str) -> None:
    expected = np.load(tiny_detector_dir / "expected.npz")
    image = expected["image"]
    dets = load_detector(tiny_detector_dir, engine=engine, threads=1).detect(image)
    # Row 2 is class -1 padding and row 3 lies beyond the box count: only two boxes remain, best first.
    want = sorted(expected["boxes"].tolist(), key=lambda r: -r[1])
    assert len(dets) == 2
    h, w = image.shape[:2]
    for det, row in zip(dets, want, strict=True):
        assert det.score == pytest.approx(row[1], abs=1e-5)
        x1, y1, x2, y2 = row[2:]
        assert det.box == pytest.approx((min(x1, w), min(y1, h), min(x2, w), min(y2, h)), abs=1e-3)


def test_detector_box_scaling_follows_scale_factor(tiny_detector_dir: Path) -> None:
    """The 48x80 image is resized to 64x64, so box x is divided by 0.8 and y by 4/3."""
    image = np.load(tiny_detector_dir / "expected.npz")["image"]
    best = load_detector(tiny_detector_dir, threads=1).detect(image)[0]
    assert best.box == pytest.approx((4 / 0.8, 8 * 0.75, 30 / 0.8, 40 * 0.75), abs=1e-3)


def test_unknown_engine_is_refused(tiny_embedder_dir: Path) -> None:
    with pytest.raises(EngineError, match="unknown engine"):
        load_embedder(tiny_embedder_dir, engine="tensorrt")


def test_onnx_engine_needs_an_onnx_file(tmp_path: Path, tiny_embedder_dir: Path) -> None:
    (tmp_path / "infer_cfg.yml").write_text((tiny_embedder_dir / "infer_cfg.yml").read_text())
    with pytest.raises(EngineError, match="trayscan models convert"):
        load_embedder(tmp_path, engine="onnxruntime")


@pytest.mark.parametrize("engine", ENGINES)
def test_paddle2_pdmodel_export_with_raw_features(engine: str) -> None:
    """Official PP-ShiTu models are Paddle 2.x exports (.pdmodel, inference.yml) with un-normalised output."""
    model_dir = Path(__file__).parent / "fixtures" / "tiny_embedder_pdmodel"
    with np.load(model_dir / "crops.npz") as z:
        crops = [z["crop0"], z["crop1"]]
    raw = np.load(model_dir / "expected_raw.npy")
    feats = load_embedder(model_dir, engine=engine, threads=1).embed(crops)
    np.testing.assert_allclose(feats, raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-5)
