"""Dedupe stage: drop extra boxes on one item, never merge two items.

Two boxes of the same decided SKU are one item when they overlap almost completely: IoU over `iou`, or the
smaller box lies inside the other by `containment` (a box on part of the item). When either box is
unrecognized only the IoU test applies, so a small unknown item lying on a bigger one is kept.
Two touching cans of one drink overlap little, so they stay two items.
"""

from __future__ import annotations

from dataclasses import dataclass

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Candidate:
    box: Box
    score: float
    sku: str | None


def area(box: Box) -> float:
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


def intersection(a: Box, b: Box) -> float:
    return area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def is_same_item(a: Candidate, b: Candidate, iou: float, containment: float) -> bool:
    shared = intersection(a.box, b.box)
    if shared <= 0.0:
        return False
    if a.sku is not None and b.sku is not None and a.sku != b.sku:
        return False
    union = area(a.box) + area(b.box) - shared
    if shared / union >= iou:
        return True
    smaller = min(area(a.box), area(b.box))
    same_sku = a.sku is not None and a.sku == b.sku
    return same_sku and smaller > 0 and shared / smaller >= containment


def dedupe(candidates: list[Candidate], iou: float, containment: float) -> list[int]:
    """Indices of the candidates to keep, best score first."""
    order = sorted(range(len(candidates)), key=lambda i: candidates[i].score, reverse=True)
    kept: list[int] = []
    for index in order:
        if not any(is_same_item(candidates[k], candidates[index], iou, containment) for k in kept):
            kept.append(index)
    return kept
