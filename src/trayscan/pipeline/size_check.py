"""Size check: pack sizes of one design told apart by how big the item looks to the kiosk's fixed camera.

Siblings that differ only in pack size ("250ml" / "330ml") share their design; in a crop scaled to the embedder's
input their difference is a few printed characters. The kiosk camera is fixed above the tray, so the item's size
in its photo measures the pack. A photo taken by the kiosk's own camera (enrolment with `camera=kiosk`) records
the product's size; a tray crop's size then scores each near-tied candidate that has such photos: the
log-likelihood of the crop's size under a log-normal spread around the candidate's median enrolled size. The
spread covers what moves an item's size in the photo besides the pack: its pose, how much of it is hidden, the
camera's height and tilt from one kiosk to another. On the mesh renderer's held-out trays (camera 55-75 cm above
the tray), the nearest enrolled size alone picked the right pack size among a design's kiosk-enrolled pack sizes
for 73 % of fully visible items (151 and 173 items of `data/mesh-test` and `data/mesh-holdout`): evidence to
weigh with the others, not a decision of its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from trayscan.boxes import relative_size
from trayscan.config import SizeCheckSettings

__all__ = ["SizeEvidence", "SizeSource", "relative_size", "size_scores"]

# SKU -> the relative sizes of its kiosk-camera photos (catalog for the service).
SizeSource = Callable[[Iterable[str]], dict[str, list[float]]]


def size_scores(crop_size: float, enrolled: Mapping[str, Sequence[float]], spread: float) -> dict[str, float] | None:
    """Log-likelihood of the crop's size for each candidate SKU (0 at its median enrolled size, lower the further
    off), or None when a candidate has no kiosk photo: a comparison with only some of them would favour those."""
    if crop_size <= 0 or not enrolled or not all(len(sizes) for sizes in enrolled.values()):
        return None
    log_crop = math.log(crop_size)
    scores = {}
    for sku, sizes in enrolled.items():
        centre = float(np.median(np.log(np.asarray(sizes, dtype=np.float64))))
        scores[sku] = -((log_crop - centre) ** 2) / (2.0 * spread**2)
    return scores


@dataclass(frozen=True)
class SizeEvidence:
    """What the size check knows of one crop: its size in the kiosk photo and the candidates' enrolled sizes."""

    crop_size: float
    enrolled: Mapping[str, Sequence[float]]  # SKU -> relative sizes of its kiosk-camera photos
    settings: SizeCheckSettings

    def scores(self, skus: Iterable[str]) -> dict[str, float] | None:
        """Each candidate's weighted size score, or None when the size cannot tell (see size_scores)."""
        raw = size_scores(self.crop_size, {sku: self.enrolled.get(sku, ()) for sku in skus}, self.settings.spread)
        return None if raw is None else {sku: self.settings.weight * value for sku, value in raw.items()}
