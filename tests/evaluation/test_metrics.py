"""RPC checkout metrics and detection metrics on hand-made cases with known answers."""

from __future__ import annotations

from collections import Counter

import pytest

from trayscan.evaluation.data import Tray, TruthItem
from trayscan.evaluation.metrics import (
    UNRECOGNIZED,
    PredictedItem,
    average_precision,
    checkout_metrics,
    evaluate,
    match_boxes,
)

A_BOX = (0.0, 0.0, 100.0, 100.0)
B_BOX = (200.0, 0.0, 300.0, 100.0)
C_BOX = (400.0, 0.0, 500.0, 100.0)


def tray(image_id: int, *items: tuple[tuple[float, float, float, float], str], level: str = "easy") -> Tray:
    return Tray(image_id, f"{image_id}.jpg", 640, 480, level, tuple(TruthItem(b, s) for b, s in items))


def test_perfect_prediction() -> None:
    truth = [Counter({"A": 2, "B": 1}), Counter({"B": 3})]
    m = checkout_metrics(truth, [Counter(t) for t in truth])
    assert (m.cacc, m.acd, m.mccd, m.mciou) == (1.0, 0.0, 0.0, 1.0)
    assert m.images == 2 and m.skus == 2 and m.extra_skus == 0


def test_one_missing_item_changes_each_metric_by_the_expected_amount() -> None:
    truth = [Counter({"A": 2, "B": 1}), Counter({"B": 1})]
    predicted = [Counter({"A": 1, "B": 1}), Counter({"B": 1})]
    m = checkout_metrics(truth, predicted)
    assert m.cacc == 0.5  # one image of two is exactly right
    assert m.acd == 0.5  # count error 1 on one of two images
    assert m.mccd == pytest.approx((1 / 2 + 0 / 2) / 2)  # A: 1 error over 2 true; B: none over 2
    assert m.mciou == pytest.approx((1 / 2 + 2 / 2) / 2)  # A: min 1 over max 2; B: 2 over 2


def test_extra_sku_counts_in_cacc_and_acd_but_not_in_the_sku_means() -> None:
    truth = [Counter({"A": 1})]
    predicted = [Counter({"A": 1, "Z": 2})]
    m = checkout_metrics(truth, predicted)
    assert (m.cacc, m.acd) == (0.0, 2.0)
    assert (m.mccd, m.mciou, m.skus, m.extra_skus) == (0.0, 1.0, 1, 1)


def test_wrong_sku_is_one_missing_and_one_extra() -> None:
    m = checkout_metrics([Counter({"A": 1, "B": 1})], [Counter({"A": 2})])
    assert m.acd == 2.0  # A over by one, B under by one
    assert m.mccd == pytest.approx((1 / 1 + 1 / 1) / 2)
    assert m.mciou == pytest.approx((1 / 2 + 0 / 1) / 2)


def test_no_images_gives_no_figures() -> None:
    m = checkout_metrics([], [])
    assert (m.images, m.cacc, m.acd, m.mccd, m.mciou) == (0, None, None, None, None)


def test_average_precision_of_a_known_ranking() -> None:
    # Ranked hits: yes, no, yes; 3 true items. Precision 1, 1/2, 2/3 at recall 1/3, 1/3, 2/3.
    # Envelope 1, 2/3, 2/3 -> AP = 1/3 * 1 + 1/3 * 2/3.
    ap = average_precision([0.9, 0.8, 0.7], [True, False, True], 3)
    assert ap == pytest.approx(1 / 3 + 2 / 9)
    assert average_precision([0.7, 0.9, 0.8], [True, True, False], 3) == pytest.approx(1 / 3 + 2 / 9)
    assert average_precision([0.9, 0.8], [True, True], 2) == pytest.approx(1.0)
    assert average_precision([], [], 2) == 0.0
    assert average_precision([0.5], [False], 0) is None


def test_match_boxes_best_score_first_one_match_per_truth() -> None:
    truth = [A_BOX, B_BOX]
    shifted = (10.0, 0.0, 110.0, 100.0)  # IoU with A_BOX = 90 / 110 > 0.5
    predicted = [
        PredictedItem(shifted, 0.6, "A"),
        PredictedItem(A_BOX, 0.9, "A"),  # better score: takes A
        PredictedItem(C_BOX, 0.8, "C"),  # no true box there
        PredictedItem((200.0, 0.0, 240.0, 100.0), 0.7, "B"),  # IoU 0.4 with B: no match
    ]
    assert match_boxes(truth, predicted) == [None, 0, None, None]


def test_evaluate_splits_levels_and_names_confused_pairs() -> None:
    trays = [
        tray(1, (A_BOX, "A"), (B_BOX, "B")),
        tray(2, (A_BOX, "A"), (B_BOX, "A"), (C_BOX, "C"), level="hard"),
    ]
    predictions = [
        [PredictedItem(A_BOX, 0.9, "A"), PredictedItem(B_BOX, 0.8, "B")],
        [
            PredictedItem(A_BOX, 0.9, "A"),
            PredictedItem(B_BOX, 0.8, "B"),  # A mistaken for B
            PredictedItem(C_BOX, 0.7, None),  # found, not recognised
        ],
    ]
    report = evaluate(trays, predictions)
    assert report.levels["easy"].checkout.cacc == 1.0
    assert report.levels["hard"].checkout.cacc == 0.0
    assert report.levels["medium"].checkout.images == 0
    assert report.overall.checkout.cacc == 0.5
    assert report.overall.checkout.acd == pytest.approx((0 + 3) / 2)  # A -1, B +1, C -1
    d = report.overall.detection
    assert (d.items, d.predictions, d.recall50, d.ap50) == (5, 5, 1.0, 1.0)
    assert d.recognition_recall1 == pytest.approx(3 / 5)
    assert report.confused == [("A", "B", 1), ("C", UNRECOGNIZED, 1)]


def test_missed_and_extra_boxes_lower_recall_and_ap() -> None:
    trays = [tray(1, (A_BOX, "A"), (B_BOX, "B"))]
    predictions = [[PredictedItem(C_BOX, 0.9, "C"), PredictedItem(A_BOX, 0.5, "A")]]
    d = evaluate(trays, predictions).overall.detection
    assert d.recall50 == 0.5
    assert d.ap50 == pytest.approx(0.5 * 0.5)  # one hit at rank 2: precision 1/2 over recall 1/2
    assert d.recognition_recall1 == 1.0


def test_shown_boxes_are_scored_as_matches_parts_and_groups() -> None:
    trays = [tray(1, (A_BOX, "A"), (B_BOX, "B"))]
    half_of_a = (0.0, 0.0, 40.0, 100.0)  # inside A, IoU 0.4: a part box
    a_and_b = (0.0, 0.0, 300.0, 100.0)  # holds both items, matches neither: a group box
    predictions = [[PredictedItem(A_BOX, 0.9, "A"), PredictedItem(half_of_a, 0.6, None),
                    PredictedItem(a_and_b, 0.5, "B"), PredictedItem(C_BOX, 0.4, UNRECOGNIZED)]]
    d = evaluate(trays, predictions).overall.detection
    assert (d.recall50, d.precision50, d.part_boxes, d.group_boxes) == (0.5, 0.25, 0.25, 0.25)
    assert evaluate([tray(2, (A_BOX, "A"))], [[]]).overall.detection.precision50 is None


def test_top_confused_keeps_the_most_frequent_pairs() -> None:
    trays = [tray(i, (A_BOX, "A")) for i in range(1, 4)] + [tray(9, (A_BOX, "B"))]
    predictions = [[PredictedItem(A_BOX, 0.9, "X")] for _ in range(3)] + [[PredictedItem(A_BOX, 0.9, "Y")]]
    assert evaluate(trays, predictions, top_confused=1).confused == [("A", "X", 3)]


def test_item_outcomes_tell_siblings_from_other_products() -> None:
    d_box = (600.0, 0.0, 700.0, 100.0)
    trays = [tray(1, (A_BOX, "A1"), (B_BOX, "A1"), (C_BOX, "B1"), (d_box, "B1"), ((0.0, 200.0, 100.0, 300.0), "A2"))]
    predictions = [[
        PredictedItem(A_BOX, 0.9, "A1"),  # right
        PredictedItem(B_BOX, 0.9, "A2"),  # a sibling
        PredictedItem(C_BOX, 0.9, "A1"),  # another product
        PredictedItem(d_box, 0.9, None),  # unrecognised; the A2 item has no box
    ]]
    families = {"A1": "A", "A2": "A", "B1": "B"}
    o = evaluate(trays, predictions, families=families).overall.outcomes
    assert o is not None
    assert (o.items, o.right, o.sibling, o.other_product, o.unrecognised, o.no_box) == (5, 0.2, 0.2, 0.2, 0.2, 0.2)
    without = evaluate(trays, predictions).overall.outcomes
    assert without is not None and without.sibling is None and without.other_product == 0.4
