"""Detect, crop, embed, decide and dedupe stages on hand-made inputs."""

from __future__ import annotations

import numpy as np
import pytest

from trayscan.inference.base import Detection
from trayscan.pipeline.crop import crop_with_padding
from trayscan.pipeline.decide import decide
from trayscan.pipeline.dedupe import Candidate, dedupe, drop_group_boxes
from trayscan.pipeline.detect import detect_items
from trayscan.pipeline.embed import embed_crops
from trayscan.pipeline.search import Neighbour


class ListDetector:
    name = "list"

    def __init__(self, detections: list[Detection]) -> None:
        self.detections = detections

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        return self.detections


IMAGE = np.zeros((100, 200, 3), np.uint8)


def test_detect_keeps_boxes_over_threshold_best_first_clipped() -> None:
    detector = ListDetector(
        [
            Detection((10, 10, 50, 50), 0.4),
            Detection((-20, 30, 250, 120), 0.9),
            Detection((0, 0, 10, 10), 0.2),
            Detection((60, 60, 61, 90), 0.8),  # 1 px wide: cannot be embedded
        ]
    )
    kept = detect_items(detector, IMAGE, score_threshold=0.3, max_detections=50)
    assert kept == [Detection((0.0, 30.0, 200.0, 100.0), 0.9), Detection((10.0, 10.0, 50.0, 50.0), 0.4)]


def test_detect_caps_the_number_of_boxes() -> None:
    detector = ListDetector([Detection((i, 0, i + 5, 5), 0.5 + i / 1000) for i in range(120)])
    kept = detect_items(detector, IMAGE, score_threshold=0.3, max_detections=60)
    assert len(kept) == 60 and kept[0].score == pytest.approx(0.619)


def test_crop_adds_padding_inside_the_image() -> None:
    image = np.arange(100 * 200 * 3, dtype=np.uint32).reshape(100, 200, 3).astype(np.uint8)
    assert crop_with_padding(image, (50, 20, 150, 60), 0.1).shape == (48, 120, 3)
    assert crop_with_padding(image, (0, 0, 200, 100), 0.1).shape == (100, 200, 3)


class ScaledEmbedder:
    name = "scaled"
    dim = 4

    def embed(self, crops_bgr: list[np.ndarray]) -> np.ndarray:
        return np.array([[3.0, 4.0, 0.0, 0.0]] * len(crops_bgr))


def test_embed_normalises_and_handles_no_crops() -> None:
    features = embed_crops(ScaledEmbedder(), [IMAGE, IMAGE])
    assert features.dtype == np.float32
    np.testing.assert_allclose(features, [[0.6, 0.8, 0, 0]] * 2, rtol=1e-6)
    assert embed_crops(ScaledEmbedder(), []).shape == (0, 4)


def n(sku: str, similarity: float) -> Neighbour:
    return Neighbour(image_id=hash(sku) % 1000, sku=sku, similarity=similarity)


def test_decide_votes_among_neighbours_over_threshold() -> None:
    # B has the single closest neighbour but A wins the weighted vote.
    decision = decide([n("B", 0.90), n("A", 0.85), n("A", 0.84), n("C", 0.3)], threshold=0.6)
    assert decision.sku == "A" and decision.similarity == pytest.approx(0.85)


def test_decide_below_threshold_is_unrecognized_with_best_guess() -> None:
    decision = decide([n("B", 0.55), n("A", 0.5)], threshold=0.6)
    assert decision.sku is None and decision.best_guess == n("B", 0.55) and decision.similarity == 0.55
    assert decide([], threshold=0.6).best_guess is None


def test_dedupe_keeps_touching_identical_items() -> None:
    candidates = [Candidate((0, 0, 50, 100), 0.9, "COLA"), Candidate((50, 0, 100, 100), 0.8, "COLA")]
    assert dedupe(candidates, iou=0.6, containment=0.9) == [0, 1]


def test_dedupe_keeps_overlapping_items_that_are_not_the_same_item() -> None:
    # Two cans overlapping by a third: IoU 0.2, far from a duplicate.
    candidates = [Candidate((0, 0, 60, 100), 0.9, "COLA"), Candidate((40, 0, 100, 100), 0.8, "COLA")]
    assert dedupe(candidates, iou=0.6, containment=0.9) == [0, 1]


def test_dedupe_drops_a_second_box_on_one_item() -> None:
    candidates = [
        Candidate((2, 2, 98, 98), 0.7, "COLA"),
        Candidate((0, 0, 100, 100), 0.9, "COLA"),
        Candidate((10, 10, 60, 60), 0.6, "COLA"),  # a part of the item
    ]
    assert dedupe(candidates, iou=0.6, containment=0.9) == [1]


def test_dedupe_does_not_merge_different_skus_below_the_any_sku_overlap() -> None:
    candidates = [Candidate((0, 0, 100, 100), 0.9, "COLA"), Candidate((1, 1, 99, 99), 0.8, "TEA")]
    assert dedupe(candidates, iou=0.6, containment=0.9) == [0, 1]


def test_dedupe_unrecognized_box_on_a_recognised_one() -> None:
    candidates = [
        Candidate((0, 0, 100, 100), 0.9, "COLA"),
        Candidate((1, 1, 99, 99), 0.8, None),  # same item, not recognised from this box: dropped
        Candidate((30, 30, 60, 60), 0.8, None),  # small unknown item lying on it: kept
    ]
    assert dedupe(candidates, iou=0.6, containment=0.9) == [0, 2]


def test_a_box_around_a_group_of_items_is_dropped() -> None:
    left, right, group = (10.0, 10.0, 100.0, 200.0), (100.0, 10.0, 190.0, 200.0), (5.0, 5.0, 195.0, 205.0)
    assert drop_group_boxes([left, right, group], [2, 0, 1], coverage=0.6) == [0, 1]
    assert drop_group_boxes([left, right, group], [2, 0, 1], coverage=0.0) == [2, 0, 1]  # off


def test_a_big_item_with_small_items_on_it_is_kept() -> None:
    tray_bag, candy, gum = (0.0, 0.0, 300.0, 300.0), (20.0, 20.0, 80.0, 60.0), (200.0, 200.0, 260.0, 250.0)
    assert drop_group_boxes([tray_bag, candy, gum], [0, 1, 2], coverage=0.6) == [0, 1, 2]


def test_dedupe_merges_two_guesses_on_one_item_whatever_their_skus() -> None:
    candidates = [
        Candidate((0.0, 0.0, 100.0, 100.0), 0.9, "A"),
        Candidate((2.0, 2.0, 100.0, 98.0), 0.8, "B"),  # IoU 0.94: the same item, another guess
        Candidate((100.0, 0.0, 200.0, 100.0), 0.8, "B"),  # touching: another item
    ]
    assert dedupe(candidates, iou=0.6, containment=0.9, any_sku_iou=0.75) == [0, 2]
    assert dedupe(candidates, iou=0.6, containment=0.9, any_sku_iou=1.0) == [0, 1, 2]
