"""Detection metrics for one class: AP50 (VOC all-point), recall at IoU 0.5, precision/recall at thresholds, and
the part and group boxes (trayscan.boxes.part_and_group_boxes) among the boxes shown at each score threshold."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trayscan.boxes import MATCH_IOU, iou_matrix, part_and_group_boxes


def match(pred_boxes: np.ndarray, pred_scores: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Greedy by score (as VOC/COCO do): True for each prediction that claims an unclaimed gt at IoU >= 0.5."""
    order = np.argsort(-pred_scores, kind="stable")
    ious = iou_matrix(pred_boxes[order], gt)
    taken = np.zeros(len(gt), bool)
    tp_sorted = np.zeros(len(order), bool)
    for i in range(len(order)):
        if len(gt) == 0:
            break
        cand = np.where(taken, -1.0, ious[i])
        j = int(np.argmax(cand))
        if cand[j] >= MATCH_IOU:
            taken[j] = True
            tp_sorted[i] = True
    tp = np.zeros(len(order), bool)
    tp[order] = tp_sorted
    return tp


@dataclass
class DetAccumulator:
    """Collects per-image matches; `summary()` gives the dataset-level numbers."""

    thresholds: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5)
    scores: list[np.ndarray] = field(default_factory=list)
    tps: list[np.ndarray] = field(default_factory=list)
    parts: list[np.ndarray] = field(default_factory=list)
    groups: list[np.ndarray] = field(default_factory=list)
    n_gt: int = 0
    n_images: int = 0
    images_all_found: int = 0

    def add(self, pred_boxes: np.ndarray, pred_scores: np.ndarray, gt: np.ndarray) -> None:
        tp = match(pred_boxes, pred_scores, gt)
        part, group = part_and_group_boxes(pred_boxes, gt)
        self.scores.append(pred_scores)
        self.tps.append(tp)
        self.parts.append(part)
        self.groups.append(group)
        self.n_gt += len(gt)
        self.n_images += 1
        self.images_all_found += int(tp.sum() == len(gt))

    def summary(self) -> dict[str, float]:
        scores = np.concatenate(self.scores) if self.scores else np.zeros(0)
        tps = np.concatenate(self.tps) if self.tps else np.zeros(0, bool)
        parts = np.concatenate(self.parts) if self.parts else np.zeros(0, bool)
        groups = np.concatenate(self.groups) if self.groups else np.zeros(0, bool)
        order = np.argsort(-scores, kind="stable")
        tp_cum = np.cumsum(tps[order])
        fp_cum = np.cumsum(~tps[order])
        recall = tp_cum / max(self.n_gt, 1)
        precision = tp_cum / np.maximum(tp_cum + fp_cum, 1)
        out = {
            "images": float(self.n_images),
            "gt_boxes": float(self.n_gt),
            "ap50": voc_ap(recall, precision),
            "recall50": float(recall[-1]) if len(recall) else 0.0,
            "images_all_found": self.images_all_found / max(self.n_images, 1),
        }
        for t in self.thresholds:
            keep = scores >= t
            tp = int(tps[keep].sum())
            out[f"recall50@{t}"] = tp / max(self.n_gt, 1)
            out[f"precision50@{t}"] = tp / max(int(keep.sum()), 1)
            out[f"part_boxes@{t}"] = int(parts[keep].sum()) / max(int(keep.sum()), 1)
            out[f"group_boxes@{t}"] = int(groups[keep].sum()) / max(int(keep.sum()), 1)
        return out


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the precision envelope (VOC 2010+ all-point interpolation)."""
    if len(recall) == 0:
        return 0.0
    r = np.concatenate([[0.0], recall, [recall[-1]]])
    p = np.concatenate([[1.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    idx = np.where(r[1:] != r[:-1])[0]
    return float(np.sum((r[idx + 1] - r[idx]) * p[idx + 1]))
