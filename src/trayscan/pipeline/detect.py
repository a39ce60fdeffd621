"""Detect stage: every box over the score threshold, clipped to the image, best first, up to a maximum."""

from __future__ import annotations

import numpy as np

from trayscan.inference.base import Detection, Detector

MIN_BOX_SIDE = 2.0  # pixels; anything thinner cannot be cropped and embedded


def detect_items(
    detector: Detector, image_bgr: np.ndarray, score_threshold: float, max_detections: int
) -> list[Detection]:
    height, width = image_bgr.shape[:2]
    kept: list[Detection] = []
    for detection in sorted(detector.detect(image_bgr), key=lambda d: d.score, reverse=True):
        if detection.score < score_threshold:
            break
        box = clip_box(detection.box, width, height)
        if box[2] - box[0] < MIN_BOX_SIDE or box[3] - box[1] < MIN_BOX_SIDE:
            continue
        kept.append(Detection(box=box, score=float(detection.score)))
        if len(kept) == max_detections:
            break
    return kept


def clip_box(
    box: tuple[float, float, float, float], width: int, height: int
) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    return (
        min(max(x1, 0.0), float(width)),
        min(max(y1, 0.0), float(height)),
        min(max(x2, 0.0), float(width)),
        min(max(y2, 0.0), float(height)),
    )
