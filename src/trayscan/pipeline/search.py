"""Search stage: nearest gallery images of each crop, labelled with the SKU of an active product."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from trayscan.gallery.index import GalleryIndex

LabelLookup = Callable[[Iterable[int]], dict[int, str]]


@dataclass(frozen=True)
class Neighbour:
    image_id: int
    sku: str
    similarity: float


def search_neighbours(
    gallery: GalleryIndex, labels: LabelLookup, embeddings: np.ndarray, k: int
) -> list[list[Neighbour]]:
    """Per crop, up to k neighbours best first. Ids the lookup does not label (inactive product) are left out."""
    similarities, ids = gallery.search(embeddings, k)
    sku_of = labels({int(i) for i in ids.ravel() if i >= 0})
    return [
        [
            Neighbour(image_id=int(image_id), sku=sku_of[int(image_id)], similarity=float(similarity))
            for similarity, image_id in zip(row_similarities, row_ids, strict=True)
            if int(image_id) in sku_of
        ]
        for row_similarities, row_ids in zip(similarities, ids, strict=True)
    ]
