"""SKU centres: among near-tied SKUs, the embedding's evidence is the crop's similarity to each SKU's centre (the
normalised mean of its gallery embeddings) rather than to its single nearest photo.

The nearest photo answers for one pose, light and background of a product; a sibling's photo that happens to share
the crop's pose can be nearer than any photo of the right SKU. A product's centre averages its photos' shared
content (its print), so that chance alignment counts less. It is the similarity the candidate check weighs where
the print check cannot tell or is off. On validation crops of both renderers (4 views, the 2026-12-06 embedder)
it raised recall@1 from 0.313 to 0.338 (`data/mesh-val`) and 0.852 to 0.871 (`data/emb-val-novel`) alone, and
from 0.330 to 0.334 and 0.951 to 0.951 beside the print and size checks (docs/CALIBRATION.md). It needs no
training, so a product enrolled a minute ago has its centre at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

# SKU -> its unit centre (the catalog's stored gallery embeddings, for the service).
CentreSource = Callable[[Iterable[str]], dict[str, np.ndarray]]


def unit_centre(vectors: np.ndarray) -> np.ndarray | None:
    mean = vectors.astype(np.float64).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm).astype(np.float32) if norm > 0 else None


def unit_centres(vectors: np.ndarray, labels: Iterable[str]) -> dict[str, np.ndarray]:
    """The normalised mean of each label's vectors."""
    rows: dict[str, list[int]] = {}
    for row, label in enumerate(labels):
        rows.setdefault(label, []).append(row)
    centres = {label: unit_centre(vectors[members]) for label, members in rows.items()}
    return {label: centre for label, centre in centres.items() if centre is not None}


@dataclass(frozen=True)
class CentreEvidence:
    """What the centre check knows of one crop: its embedding and the centres of the SKUs near its top."""

    embedding: np.ndarray
    centres: Mapping[str, np.ndarray]

    def scores(self, skus: Iterable[str]) -> dict[str, float] | None:
        """The crop's similarity to each candidate's centre, or None when a candidate has none."""
        wanted = list(skus)
        if not wanted or any(sku not in self.centres for sku in wanted):
            return None
        return {sku: float(self.embedding @ self.centres[sku]) for sku in wanted}


class CentreCache:
    """SKU centres made from the stored gallery embeddings and kept until the gallery changes (its version): after
    the first trays, a checkout reads the catalog only for SKUs it has not met since the last enrolment or
    deletion, on this replica or, through the index that follows the catalog, on another. `version` must not run
    ahead of the catalog's committed rows (compose reads it under the gallery's lock)."""

    def __init__(self, embeddings: Callable[[Iterable[str]], dict[str, np.ndarray]], version: Callable[[], int],
                 capacity: int = 50_000) -> None:
        self.embeddings = embeddings
        self.version = version
        self.capacity = capacity  # SKUs kept (2 kB each at 512-d)
        self._centres: dict[str, np.ndarray] = {}
        self._made_at: int | None = None
        self._lock = threading.Lock()

    def __call__(self, skus: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = set(skus)
        version = self.version()
        with self._lock:
            if version != self._made_at or len(self._centres) > self.capacity:
                self._centres, self._made_at = {}, version
            known = {sku: self._centres[sku] for sku in wanted if sku in self._centres}
        missing = wanted - set(known)
        if missing:
            found = self.embeddings(missing)
            made = {sku: centre for sku, vectors in found.items() if (centre := unit_centre(vectors)) is not None}
            with self._lock:
                if self._made_at == version:
                    # A SKU without one (no embeddings yet, or deactivated meanwhile) is asked again next time.
                    self._centres.update(made)
            known.update(made)
        return known
