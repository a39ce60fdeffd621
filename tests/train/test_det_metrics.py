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


def test_part_and_group_boxes():
    from trayscan.boxes import part_and_group_boxes

    gt = np.array([[0, 0, 100, 100], [100, 0, 200, 100]], float)
    boxes = np.array([
        [2, 2, 98, 98],  # matches item 0: neither
        [10, 10, 50, 50],  # inside item 0, IoU 0.16: a part box
        [0, 0, 210, 110],  # holds both items: a group box
        [300, 300, 350, 350],  # on nothing: neither
        [90, 0, 110, 100],  # across the border of both, inside neither: neither
    ], float)
    part, group = part_and_group_boxes(boxes, gt)
    assert part.tolist() == [False, True, False, False, False]
    assert group.tolist() == [False, False, True, False, False]
    acc = DetAccumulator(thresholds=(0.5,))
    acc.add(boxes, np.array([0.9, 0.8, 0.7, 0.6, 0.4]), gt)
    summary = acc.summary()
    assert summary["part_boxes@0.5"] == 0.25 and summary["group_boxes@0.5"] == 0.25  # of the 4 boxes shown
