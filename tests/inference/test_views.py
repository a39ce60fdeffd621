"""Rotation-averaged embeddings (inference/views.py) and the setting that switches them on."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from trayscan.config import Settings
from trayscan.inference.views import RotationAveragedEmbedder, with_rotations


class PixelEmbedder:
    """Not rotation invariant at all: the crop's pixels on an 8x8 grid are its features."""

    name = "pixels"
    dim = 192

    def __init__(self) -> None:
        self.batches: list[int] = []

    def embed(self, crops_bgr: list[np.ndarray]) -> np.ndarray:
        self.batches.append(len(crops_bgr))
        feats = np.array([cv2.resize(c, (8, 8)).reshape(-1) for c in crops_bgr], np.float32).reshape(-1, self.dim)
        return feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)


@pytest.fixture
def crops() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.integers(0, 256, size=(40, 64, 3), dtype=np.uint8) for _ in range(3)]


def test_four_rotations_make_the_feature_invariant_to_right_angles(crops: list[np.ndarray]) -> None:
    plain, averaged = PixelEmbedder(), RotationAveragedEmbedder(PixelEmbedder(), 4)
    turned = [cv2.rotate(c, cv2.ROTATE_90_CLOCKWISE) for c in crops]
    changed = np.linalg.norm(plain.embed(crops) - plain.embed(turned), axis=1)
    assert changed.min() > 0.1  # the wrapped model is not invariant
    np.testing.assert_allclose(averaged.embed(crops), averaged.embed(turned), atol=1e-5)


def test_feature_is_the_normalised_mean_of_the_views_in_one_batch(crops: list[np.ndarray]) -> None:
    inner = PixelEmbedder()
    feats = RotationAveragedEmbedder(inner, 2).embed(crops)
    assert inner.batches == [2 * len(crops)]  # all views of all crops in one call
    views = inner.embed(crops) + inner.embed([cv2.rotate(c, cv2.ROTATE_90_CLOCKWISE) for c in crops])
    np.testing.assert_allclose(feats, views / np.linalg.norm(views, axis=1, keepdims=True), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1.0, atol=1e-6)


def test_name_marks_the_views_so_stored_embeddings_of_the_plain_model_are_stale(crops: list[np.ndarray]) -> None:
    inner = PixelEmbedder()
    assert with_rotations(inner, 1) is inner
    wrapped = with_rotations(inner, 4)
    assert wrapped.name == "pixels+rot4" and wrapped.dim == inner.dim
    assert wrapped.embed([]).shape == (0, inner.dim)
    with pytest.raises(ValueError, match="rotations must be one of"):
        RotationAveragedEmbedder(inner, 3)


def test_setting_accepts_1_2_4_also_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().models.embed_rotations == 4
    monkeypatch.setenv("TRAYSCAN_MODELS__EMBED_ROTATIONS", "2")
    assert Settings().models.embed_rotations == 2
    with pytest.raises(ValidationError, match="must be one of"):
        Settings(models={"embed_rotations": 3})
