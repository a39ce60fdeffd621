"""Dedupe stage: drop extra boxes on one item, never merge two items.

Two boxes of the same decided SKU are one item when they overlap almost completely: IoU over `iou`, or the
smaller box lies inside the other by `containment` (a box on part of the item). When either box is
unrecognized only the IoU test applies, so a small unknown item lying on a bigger one is kept. Boxes of
different SKUs are two items, unless they overlap so much (`any_sku_iou`) that they can only be two guesses on
one item (two items on a tray never share most of their outline).
Two touching cans of one drink overlap little, so they stay two items.

A detector can also put one box around a group of items. Such a box holds two or more other kept boxes that
together fill most of it (`group_coverage`); it is dropped. A big item with small items lying on it is kept: the
small ones fill little of its box.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


def is_same_item(a: Candidate, b: Candidate, iou: float, containment: float, any_sku_iou: float = 1.0) -> bool:
    shared = intersection(a.box, b.box)
    if shared <= 0.0:
        return False
    union = area(a.box) + area(b.box) - shared
    if shared / union >= any_sku_iou:
        return True
    if a.sku is not None and b.sku is not None and a.sku != b.sku:
        return False
    if shared / union >= iou:
        return True
    smaller = min(area(a.box), area(b.box))
    same_sku = a.sku is not None and a.sku == b.sku
    return same_sku and smaller > 0 and shared / smaller >= containment


def dedupe(candidates: list[Candidate], iou: float, containment: float, any_sku_iou: float = 1.0) -> list[int]:
    """Indices of the candidates to keep, best score first."""
    order = sorted(range(len(candidates)), key=lambda i: candidates[i].score, reverse=True)
    kept: list[int] = []
    for index in order:
        if not any(is_same_item(candidates[k], candidates[index], iou, containment, any_sku_iou) for k in kept):
            kept.append(index)
    return kept


GROUP_MEMBER_CONTAINMENT = 0.8  # a box counts as inside a group box when this share of it lies inside
COVERAGE_GRID = 32  # cells per side when measuring how much of a box its members fill


def drop_group_boxes(boxes: list[Box], kept: list[int], coverage: float) -> list[int]:
    """`kept` without the boxes that are groups of other kept boxes (coverage 0 keeps all)."""
    if coverage <= 0.0:
        return kept
    groups = set()
    for g in kept:
        big = boxes[g]
        members = [
            boxes[k] for k in kept
            if k != g and area(boxes[k]) < area(big)
            and intersection(boxes[k], big) >= GROUP_MEMBER_CONTAINMENT * area(boxes[k])
        ]
        if len(members) >= 2 and _filled_share(big, members) >= coverage:
            groups.add(g)
    return [k for k in kept if k not in groups]


def _filled_share(big: Box, members: list[Box]) -> float:
    """Share of `big` covered by the union of `members`, on a grid (boxes may overlap each other)."""
    width, height = big[2] - big[0], big[3] - big[1]
    if width <= 0 or height <= 0:
        return 0.0
    grid = np.zeros((COVERAGE_GRID, COVERAGE_GRID), dtype=bool)
    for x1, y1, x2, y2 in members:
        c1 = int(np.floor((x1 - big[0]) / width * COVERAGE_GRID))
        c2 = int(np.ceil((x2 - big[0]) / width * COVERAGE_GRID))
        r1 = int(np.floor((y1 - big[1]) / height * COVERAGE_GRID))
        r2 = int(np.ceil((y2 - big[1]) / height * COVERAGE_GRID))
        grid[max(r1, 0):max(r2, 0), max(c1, 0):max(c2, 0)] = True
    return float(grid.mean())
