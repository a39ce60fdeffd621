"""The shipped starter embedder under ONNX Runtime reproduces its Paddle Inference features (saved by
tests/inference/make_fixtures.py) on held-out tray crops of novel SKUs, and separates those SKUs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trayscan.inference import load_embedder

ROOT = Path(__file__).parents[2]
MODEL = ROOT / "models" / "embedder" / "lcnet"
EXPECTED = Path(__file__).parent / "fixtures" / "lcnet_expected.npz"

pytestmark = pytest.mark.skipif(not (MODEL / "inference.onnx").exists() or not EXPECTED.exists(),
                                reason="shipped embedder or its expectations not present")


@pytest.fixture(scope="module")
def saved() -> dict[str, np.ndarray]:
    with np.load(EXPECTED) as z:
        return {k: z[k] for k in z.files}


def _crops(saved: dict[str, np.ndarray]) -> list[np.ndarray]:
    return [saved[f"crop{i}"] for i in range(len(saved["labels"]))]


def test_onnx_matches_paddle_features(saved: dict[str, np.ndarray]) -> None:
    feats = load_embedder(MODEL, engine="onnxruntime", threads=1).embed(_crops(saved))
    assert feats.shape == (len(saved["labels"]), 512)
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(feats, saved["features"], atol=2e-4)


def test_batch_equals_singles(saved: dict[str, np.ndarray]) -> None:
    embedder = load_embedder(MODEL, threads=1)
    crops = _crops(saved)
    singles = np.concatenate([embedder.embed([c]) for c in crops])
    np.testing.assert_allclose(embedder.embed(crops), singles, atol=1e-5)


def test_same_sku_is_closer_than_other_sku(saved: dict[str, np.ndarray]) -> None:
    feats, labels = saved["features"], saved["labels"]
    sims = feats @ feats.T
    same = labels[:, None] == labels[None, :]
    off_diag = ~np.eye(len(labels), dtype=bool)
    assert sims[same & off_diag].mean() > sims[~same].mean()
