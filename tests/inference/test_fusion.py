"""Fused detection (inference/fusion.py): boxes of several detector passes merged into one list."""

from __future__ import annotations

import numpy as np
import pytest

from trayscan.config import Settings
from trayscan.inference.base import Detection
from trayscan.inference.fusion import FusedDetector, fuse_passes, with_fusion


class FixedDetector:
    """Returns the same boxes whatever the image (boxes given for the image as it is, not mirrored)."""

    def __init__(self, name: str, found: list[Detection]) -> None:
        self.name = name
        self.found = found
        self.seen: list[np.ndarray] = []

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        self.seen.append(image_bgr)
        return list(self.found)


class BrightSpotDetector:
    """Finds the one bright square of an image: its box follows the content, so mirroring moves it."""

    name = "spot"

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        ys, xs = np.nonzero(image_bgr[:, :, 0] > 128)
        return [Detection((float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)), 0.8)]


def test_boxes_found_by_every_pass_become_one_box_with_the_mean_score() -> None:
    fused = fuse_passes([
        [Detection((0, 0, 100, 100), 0.9)],
        [Detection((10, 0, 110, 100), 0.3)],
    ])
    assert len(fused) == 1
    assert fused[0].score == pytest.approx(0.6)
    assert fused[0].box[0] == pytest.approx((0.9 * 0 + 0.3 * 10) / 1.2)  # score-weighted


def test_a_box_only_one_pass_found_keeps_its_share_of_the_score() -> None:
    fused = fuse_passes([
        [Detection((0, 0, 100, 100), 0.8), Detection((300, 300, 400, 400), 0.6)],
        [Detection((2, 2, 100, 100), 0.8)],
    ])
    assert [round(d.score, 3) for d in fused] == [0.8, 0.3]


def test_two_touching_items_of_one_pass_are_never_merged() -> None:
    # Two touching cans: each pass has both; the pass's own NMS already said they are two items.
    left, right = (0.0, 0.0, 60.0, 100.0), (50.0, 0.0, 110.0, 100.0)
    fused = fuse_passes([
        [Detection(left, 0.9), Detection(right, 0.9)],
        [Detection(left, 0.8), Detection(right, 0.7)],
    ], match_iou=0.1)  # even when their overlap alone would be a match
    assert len(fused) == 2
    assert sorted(round(d.score, 2) for d in fused) == [0.8, 0.85]


def test_each_box_of_a_pass_joins_the_cluster_it_overlaps_most() -> None:
    fused = fuse_passes([
        [Detection((0, 0, 100, 100), 0.9), Detection((60, 0, 160, 100), 0.9)],
        [Detection((58, 0, 158, 100), 0.9)],
    ])
    boxes = sorted((round(d.box[0]), round(d.score, 2)) for d in fused)
    assert boxes == [(0, 0.45), (59, 0.9)]


def test_low_scores_are_left_out_and_empty_passes_give_nothing() -> None:
    assert fuse_passes([[], []]) == []
    assert fuse_passes([[Detection((0, 0, 10, 10), 0.01)]]) == []


def test_mirrored_passes_give_boxes_in_the_original_image() -> None:
    image = np.zeros((50, 100, 3), np.uint8)
    image[10:20, 5:25] = 255  # a spot near the left edge: mirrored it lies near the right
    fused = FusedDetector([BrightSpotDetector()], mirror=True).detect(image)
    assert len(fused) == 1
    assert fused[0].box == pytest.approx((5.0, 10.0, 25.0, 20.0))
    assert fused[0].score == pytest.approx(0.8)


def test_every_detector_runs_on_the_image_and_the_name_lists_them() -> None:
    a = FixedDetector("a", [Detection((0, 0, 10, 10), 0.5)])
    b = FixedDetector("b", [])
    fused = FusedDetector([a, b], mirror=True)
    image = np.zeros((8, 8, 3), np.uint8)
    assert [d.score for d in fused.detect(image)] == [0.25]  # found in 2 of 4 passes (its own and its mirror)
    assert len(a.seen) == len(b.seen) == 2
    assert fused.name == "a+b+mirror"


def test_nothing_to_fuse_keeps_the_detector_itself() -> None:
    a = FixedDetector("a", [])
    assert with_fusion(a, [], mirror=False) is a
    assert isinstance(with_fusion(a, [], mirror=True), FusedDetector)


def test_settings_name_the_extra_passes() -> None:
    settings = Settings(models={"detector_extra_dirs": ["models/detector/x"], "detector_mirror": True})
    assert [str(p) for p in settings.models.detector_extra_dirs] == ["models/detector/x"]
    assert settings.models.detector_mirror
