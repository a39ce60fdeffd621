"""The PP-ShiTu way: 5 boxes at 0.2, the whole image as a box, one embedder call per box, top-1 at 0.5,
NMS 0.05 over the recognised boxes whatever their SKU."""

from __future__ import annotations

from collections import Counter

import numpy as np

from tests.evaluation.world import DESIGNS, grid_box
from tests.service.builders import encode, tray
from tests.service.fakes import BlobDetector, HistogramEmbedder
from trayscan.evaluation.baseline import PPShiTuRecognizer, PPShiTuSettings, rec_nms
from trayscan.inference.base import Detection
from trayscan.services import Services

WHOLE = (0.0, 0.0, 640.0, 480.0)


class ListDetector:
    name = "list-detector"

    def __init__(self, detections: list[Detection]) -> None:
        self.detections = detections

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        return list(self.detections)


def item_skus(recognition: object, exclude: tuple[float, ...] = WHOLE) -> Counter[str | None]:
    boxes = recognition.boxes  # type: ignore[attr-defined]
    return Counter(b.decision.sku for b in boxes if b.box != exclude)


def test_settings_are_those_of_inference_general_yaml() -> None:
    s = PPShiTuSettings()
    assert (s.threshold, s.max_det_results, s.return_k, s.score_thres, s.rec_nms_threshold) == (
        0.2,
        5,
        5,
        0.5,
        0.05,
    )


def test_five_best_boxes_then_threshold_then_the_whole_image(service: Services) -> None:
    image = np.zeros((480, 640, 3), np.uint8)
    scores = [0.9, 0.1, 0.8, 0.7, 0.6, 0.5, 0.4, 0.05]
    detections = [Detection(grid_box(i), s) for i, s in enumerate(scores)]
    service.recognizer.stages.detector = ListDetector(detections)
    boxes = PPShiTuRecognizer(service.recognizer).boxes(image)
    assert [score for _, score in boxes] == [0.9, 0.8, 0.7, 0.6, 0.5, 1.0]
    assert boxes[-1][0] == WHOLE

    # Of the five best, only those >= 0.2 stay.
    service.recognizer.stages.detector = ListDetector(
        [Detection(grid_box(i), s) for i, s in enumerate([0.9, 0.3, 0.15, 0.12, 0.11, 0.25])]
    )
    assert [score for _, score in PPShiTuRecognizer(service.recognizer).boxes(image)] == [0.9, 0.3, 0.25, 1.0]


def test_one_embedder_call_per_box_and_at_most_five_items(
    service: Services, detector: BlobDetector, embedder: HistogramEmbedder
) -> None:
    skus = list(DESIGNS) + ["SKU-A", "SKU-B"]  # 8 items
    boxes = [grid_box(i) for i in range(8)]
    photo = tray([(DESIGNS[s], b) for s, b in zip(skus, boxes, strict=True)])
    detector.register(photo, boxes)
    data = encode(photo)

    embedder.batches.clear()
    ours = service.recognizer.recognize(data)
    assert embedder.batches == [8]  # trayscan: one batch for the tray
    assert Counter(b.decision.sku for b in ours.boxes) == Counter(skus)

    embedder.batches.clear()
    theirs = PPShiTuRecognizer(service.recognizer).recognize(data)
    assert embedder.batches == [1] * 6  # five boxes and the whole image, one call each
    assert sum(item_skus(theirs).values()) == 5
    assert set(theirs.timings_ms) >= {"decode", "detect", "embed", "search", "total"}


def test_nms_merges_touching_identical_items_that_trayscan_counts_as_two(
    service: Services, detector: BlobDetector
) -> None:
    left, right = (100.0, 100.0, 200.0, 200.0), (190.0, 100.0, 290.0, 200.0)  # 10 px overlap: IoU 0.053
    photo = tray([(DESIGNS["SKU-A"], left), (DESIGNS["SKU-A"], right)])
    detector.register(photo, [left, right])
    data = encode(photo)
    assert item_skus(service.recognizer.recognize(data)) == Counter({"SKU-A": 2})
    assert item_skus(PPShiTuRecognizer(service.recognizer).recognize(data)) == Counter({"SKU-A": 1})


def test_boxes_under_the_score_threshold_are_dropped(service: Services, detector: BlobDetector) -> None:
    unknown = ((128, 128, 128), (0, 0, 0))  # grey and black: no enrolled design has these colours
    boxes = [grid_box(0), grid_box(1)]
    photo = tray([(DESIGNS["SKU-B"], boxes[0]), (unknown, boxes[1])])
    detector.register(photo, boxes)
    data = encode(photo)
    ours = service.recognizer.recognize(data)
    assert Counter(b.decision.sku for b in ours.boxes) == Counter({"SKU-B": 1, None: 1})  # kept, unrecognised
    theirs = PPShiTuRecognizer(service.recognizer).recognize(data)
    assert None not in item_skus(theirs)
    assert all(b.decision.similarity >= 0.5 for b in theirs.boxes)


def test_rec_nms_orders_by_similarity_and_ignores_sku() -> None:
    a = (0.0, 0.0, 100.0, 100.0)
    b = (95.0, 0.0, 195.0, 100.0)  # overlaps a: (100-95+1)*101 / (2*101*101 - 606) = 0.031 <= 0.05: kept
    c = (90.0, 0.0, 190.0, 100.0)  # overlaps a: 11*101 / (2*10201 - 1111) = 0.058 > 0.05: merged
    assert rec_nms([a, b], [0.6, 0.9], 0.05) == [1, 0]
    assert rec_nms([a, c], [0.6, 0.9], 0.05) == [1]  # the better similarity wins whatever the SKUs
    assert rec_nms([], [], 0.05) == []
