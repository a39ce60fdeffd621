"""Fused detection: several detector passes over one image, their boxes merged into one scored list.

A small detector trained from scratch scores the same item differently from one input size to the next, and its
mistakes (a box on nothing, a loose box) need not repeat in another pass, while a real item should be found in
every pass. So each pass (another export of the detector, e.g. the same weights at 384 px; optionally each also on the
mirrored image) lists its boxes, and boxes of different passes that overlap (IoU >= `match_iou`) are one item:
its box is the score-weighted mean of theirs and its score the sum of their scores divided by the number of
passes, so a box that only one pass of two found keeps half its score. This is weighted box fusion (Solovyev et
al., 2021) without its re-scaling tricks. A pass never merges two of its own boxes: its NMS has already decided
that they are two items (two touching cans).

Measured with the starter detector of commit 0e5bce9 on 500 held-out sprite trays, fusing it with the same weights
exported at 384 px raised AP50 from 0.942 to 0.955 for one more model run per image; in the service it did not
pay (docs/CALIBRATION.md, "Detector fusion"), so it is off by default (`models.detector_extra_dirs: []`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from trayscan.boxes import iou_matrix
from trayscan.inference.base import Detection, Detector

MIN_SCORE = 0.05  # boxes under this add little to a fused score and only cost matching time
MATCH_IOU = 0.55


class FusedDetector:
    """A Detector that runs every wrapped detector (and, with `mirror`, each on the mirrored image too) and fuses
    their boxes."""

    def __init__(self, detectors: Sequence[Detector], mirror: bool = False, match_iou: float = MATCH_IOU) -> None:
        if not detectors:
            raise ValueError("FusedDetector needs at least one detector")
        self.detectors = list(detectors)
        self.mirror = mirror
        self.match_iou = match_iou
        self.name = "+".join(d.name for d in self.detectors) + ("+mirror" if mirror else "")

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        passes = [detector.detect(image_bgr) for detector in self.detectors]
        if self.mirror:
            mirrored = np.ascontiguousarray(image_bgr[:, ::-1])
            width = float(image_bgr.shape[1])
            passes += [[unmirror(d, width) for d in detector.detect(mirrored)] for detector in self.detectors]
        return fuse_passes(passes, self.match_iou)


def unmirror(detection: Detection, width: float) -> Detection:
    x1, y1, x2, y2 = detection.box
    return Detection(box=(width - x2, y1, width - x1, y2), score=detection.score)


def fuse_passes(passes: Sequence[Sequence[Detection]], match_iou: float = MATCH_IOU) -> list[Detection]:
    """One Detection per item found by any pass, best first (see the module docstring).

    The first pass's boxes start the clusters; each further pass is matched to them as a whole (pairs taken by
    falling IoU, a cluster takes one box of a pass), and its unmatched boxes start clusters of their own."""
    weighted = np.zeros((0, 4))  # per cluster: sum of score * box
    scores = np.zeros(0)  # per cluster: sum of scores
    for found in passes:
        kept = [d for d in found if d.score >= MIN_SCORE]
        if not kept:
            continue
        boxes = np.array([d.box for d in kept], dtype=float)
        box_scores = np.array([d.score for d in kept])
        cluster_of = _match(weighted / np.maximum(scores, 1e-12)[:, None], boxes, match_iou)
        new = cluster_of < 0
        cluster_of[new] = len(scores) + np.arange(int(new.sum()))
        weighted = np.concatenate([weighted, np.zeros((int(new.sum()), 4))])
        scores = np.concatenate([scores, np.zeros(int(new.sum()))])
        np.add.at(weighted, cluster_of, box_scores[:, None] * boxes)
        np.add.at(scores, cluster_of, box_scores)
    order = np.argsort(-scores, kind="stable")
    return [
        Detection(box=_as_box(weighted[c] / scores[c]), score=float(scores[c] / len(passes))) for c in order
    ]


def _match(clusters: np.ndarray, boxes: np.ndarray, match_iou: float) -> np.ndarray:
    """For each box, the cluster it joins (-1: none): greedy one-to-one matching by falling IoU >= match_iou."""
    cluster_of = np.full(len(boxes), -1)
    if len(clusters) == 0:
        return cluster_of
    iou = iou_matrix(boxes, clusters)
    rows, cols = np.nonzero(iou >= match_iou)
    taken: set[int] = set()
    for i in np.argsort(-iou[rows, cols], kind="stable"):
        b, c = int(rows[i]), int(cols[i])
        if cluster_of[b] < 0 and c not in taken:
            cluster_of[b] = c
            taken.add(c)
    return cluster_of


def _as_box(values: np.ndarray) -> tuple[float, float, float, float]:
    return (float(values[0]), float(values[1]), float(values[2]), float(values[3]))


def with_fusion(detector: Detector, extra: Sequence[Detector], mirror: bool) -> Detector:
    """`detector` itself when there is nothing to fuse, else all passes fused."""
    if not extra and not mirror:
        return detector
    return FusedDetector([detector, *extra], mirror)
