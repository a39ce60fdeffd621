"""Detector metrics (trayscan.train.det_metrics): pure numpy, so they run in the runtime venv too."""

import numpy as np
import pytest

from trayscan.train.det_metrics import DetAccumulator, iou_matrix, match, voc_ap


def boxes(*rows):
    return np.asarray(rows, np.float32).reshape(-1, 4)


def test_iou_of_identical_half_and_disjoint_boxes():
    a = boxes([0, 0, 10, 10])
    b = boxes([0, 0, 10, 10], [0, 0, 10, 5], [20, 20, 30, 30])
    assert iou_matrix(a, b)[0] == pytest.approx([1.0, 0.5, 0.0])


def test_each_gt_is_claimed_once_by_the_best_scoring_box():
    gt = boxes([0, 0, 10, 10])
    pred = boxes([0, 0, 10, 10], [0, 0, 10, 9])
    assert match(pred, np.array([0.4, 0.9]), gt).tolist() == [False, True]


def test_two_touching_identical_items_are_two_matches():
    gt = boxes([0, 0, 10, 10], [10, 0, 20, 10])
    assert match(gt.copy(), np.array([0.9, 0.8]), gt).tolist() == [True, True]


def test_perfect_detector_scores_one_and_misses_lower_recall():
    acc = DetAccumulator()
    acc.add(boxes([0, 0, 10, 10]), np.array([0.9]), boxes([0, 0, 10, 10]))
    acc.add(boxes(), np.zeros(0), boxes([0, 0, 5, 5]))
    s = acc.summary()
    assert s["recall50"] == pytest.approx(0.5)
    assert s["ap50"] == pytest.approx(0.5)
    assert s["images_all_found"] == pytest.approx(0.5)


def test_false_positive_ranked_first_halves_precision_at_full_recall():
    acc = DetAccumulator()
    acc.add(boxes([50, 50, 60, 60], [0, 0, 10, 10]), np.array([0.9, 0.8]), boxes([0, 0, 10, 10]))
    s = acc.summary()
    assert s["ap50"] == pytest.approx(0.5)
    assert s["precision50@0.5"] == pytest.approx(0.5)


def test_voc_ap_is_area_under_the_precision_envelope():
    assert voc_ap(np.array([0.5, 1.0]), np.array([1.0, 0.5])) == pytest.approx(0.75)
