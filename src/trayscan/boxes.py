"""Box geometry shared by the pipeline, the metrics and training: boxes are (x1, y1, x2, y2) in pixels."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

BoxRows = np.ndarray | Sequence[Sequence[float]]


def _rows(boxes: BoxRows) -> np.ndarray:
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def areas(boxes: BoxRows) -> np.ndarray:
    rows = _rows(boxes)
    return np.clip(rows[:, 2] - rows[:, 0], 0, None) * np.clip(rows[:, 3] - rows[:, 1], 0, None)


def intersection_matrix(a: BoxRows, b: BoxRows) -> np.ndarray:
    """Shared area of every box of `a` [N] with every box of `b` [M]: [N, M]."""
    ra, rb = _rows(a), _rows(b)
    width = np.minimum(ra[:, None, 2], rb[None, :, 2]) - np.maximum(ra[:, None, 0], rb[None, :, 0])
    height = np.minimum(ra[:, None, 3], rb[None, :, 3]) - np.maximum(ra[:, None, 1], rb[None, :, 1])
    return np.clip(width, 0, None) * np.clip(height, 0, None)


def iou_matrix(a: BoxRows, b: BoxRows) -> np.ndarray:
    """IoU of every box of `a` with every box of `b`: [N, M] (0 where a union is empty)."""
    shared = intersection_matrix(a, b)
    union = areas(a)[:, None] + areas(b)[None, :] - shared
    return np.where(union > 0, shared / np.where(union > 0, union, 1.0), 0.0)


def inside_matrix(a: BoxRows, b: BoxRows) -> np.ndarray:
    """The share of each box of `a` that lies inside each box of `b`: [N, M] (0 for an empty box of `a`)."""
    shared = intersection_matrix(a, b)
    own = areas(a)[:, None]
    return np.where(own > 0, shared / np.where(own > 0, own, 1.0), 0.0)


# The two ways a mainbody detector fails to see whole items (counted by the detector's and the checkout's
# metrics): a part box lies inside one true item (PART_INSIDE of its area) without matching it (IoU < MATCH_IOU);
# a group box holds two or more true items (GROUP_HOLDS of each one's area) without matching any.
MATCH_IOU = 0.5
PART_INSIDE = 0.8
GROUP_HOLDS = 0.7


def part_and_group_boxes(pred_boxes: BoxRows, truth: BoxRows) -> tuple[np.ndarray, np.ndarray]:
    """Per predicted box: (is a part box, is a group box), as defined above."""
    pred, gt = _rows(pred_boxes), _rows(truth)
    if len(pred) == 0 or len(gt) == 0:
        return np.zeros(len(pred), bool), np.zeros(len(pred), bool)
    unmatched = iou_matrix(pred, gt).max(axis=1) < MATCH_IOU
    part = unmatched & (inside_matrix(pred, gt) >= PART_INSIDE).any(axis=1)
    held = inside_matrix(gt, pred).T >= GROUP_HOLDS  # [pred, gt]: the item lies in the box
    group = unmatched & (held.sum(axis=1) >= 2)
    return part, group


def relative_size(box: Sequence[float], photo_shape: Sequence[int]) -> float:
    """The item's size in its photo: the square root of its box's area over the photo's longer side (the same for
    any resolution the photo is decoded or stored at)."""
    x1, y1, x2, y2 = box
    area = max(0.0, float(x2) - float(x1)) * max(0.0, float(y2) - float(y1))
    return math.sqrt(area) / max(int(photo_shape[0]), int(photo_shape[1]))
