"""Preprocessing parsed from PaddleClas / PaddleDetection config formats and applied like their deploy code."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from trayscan.inference.preprocess import DetPreprocess, PreprocessError, RecPreprocess

REC_OPS = [{"ResizeImage": {"size": 8}},
           {"NormalizeImage": {"scale": "1.0/255.0", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "order": ""}},
           {"ToCHWImage": None}]


def test_rec_preprocess_converts_bgr_to_rgb_and_normalises() -> None:
    crop = np.zeros((5, 7, 3), dtype=np.uint8)
    crop[..., 2] = 255  # pure red in BGR
    batch = RecPreprocess.from_transform_ops(REC_OPS)([crop, crop])
    assert batch.shape == (2, 3, 8, 8) and batch.dtype == np.float32
    np.testing.assert_allclose(batch[0, 0], 1.0)  # R channel first, (1 - 0.5) / 0.5
    np.testing.assert_allclose(batch[0, 1:], -1.0)


def test_rec_preprocess_table_gives_the_per_pixel_formula_exactly() -> None:
    # The normalisation is a lookup table; it must equal (x * scale - mean) / std computed pixel by pixel.
    ops = [{"ResizeImage": {"size": 16}},
           {"NormalizeImage": {"scale": 0.00392157, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}},
           {"ToCHWImage": None}]
    pre = RecPreprocess.from_transform_ops(ops)
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (int(h), int(w), 3), dtype=np.uint8) for h, w in rng.integers(5, 40, (4, 2))]
    mean, std = np.float32(pre.mean), np.float32(pre.std)
    for crop, got in zip(crops, pre(crops), strict=True):
        rgb = cv2.resize(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB), (16, 16), interpolation=pre.interpolation)
        expected = ((rgb.astype(np.float32) * np.float32(pre.scale) - mean) / std).transpose(2, 0, 1)
        assert np.array_equal(got, expected)


@pytest.mark.parametrize("ops", [REC_OPS[1:], [{"CropImage": {"size": 8}}, *REC_OPS], [{"ResizeImage": {"resize_short": 8}}]])
def test_rec_preprocess_refuses_what_it_cannot_apply(ops: list) -> None:
    with pytest.raises(PreprocessError):
        RecPreprocess.from_transform_ops(ops)


def test_det_preprocess_keep_ratio_follows_paddledetection() -> None:
    ops = [{"type": "Resize", "target_size": [320, 320], "keep_ratio": True, "interp": 1},
           {"type": "NormalizeImage", "mean": [0, 0, 0], "std": [1, 1, 1], "is_scale": True},
           {"type": "Permute"}, {"type": "PadStride", "stride": 32}]
    feeds = DetPreprocess.from_infer_cfg(ops)(np.zeros((480, 640, 3), dtype=np.uint8))
    # scale = min(320 / 480, 320 / 640) = 0.5 -> 240 x 320, padded to 256 x 320
    np.testing.assert_allclose(feeds["scale_factor"], [[0.5, 0.5]])
    np.testing.assert_allclose(feeds["im_shape"], [[240, 320]])
    assert feeds["image"].shape == (1, 3, 256, 320)


def test_det_preprocess_without_keep_ratio_scales_each_axis() -> None:
    ops = [{"type": "Resize", "target_size": [320, 320], "keep_ratio": False, "interp": 2},
           {"type": "NormalizeImage", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "is_scale": True},
           {"type": "Permute"}]
    feeds = DetPreprocess.from_infer_cfg(ops)(np.full((960, 1280, 3), 255, dtype=np.uint8))
    np.testing.assert_allclose(feeds["scale_factor"], [[320 / 960, 320 / 1280]], rtol=1e-6)
    np.testing.assert_allclose(feeds["image"][0, :, 0, 0], (1 - np.array([0.485, 0.456, 0.406])) / [0.229, 0.224, 0.225], rtol=1e-5)
