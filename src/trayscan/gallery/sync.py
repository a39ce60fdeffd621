"""Keep the index in step with the catalog, which is the source of truth.

At startup the persisted index is checked against the catalog's gallery images and rebuilt from the stored
embeddings when they disagree. Images embedded by another embedder (a new model was installed) are re-embedded
from their stored photos first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import numpy as np

from trayscan.catalog.repository import Catalog, ImageRecord
from trayscan.errors import TrayscanError
from trayscan.gallery.index import GalleryIndex, IndexParams
from trayscan.pipeline.recognize import Stages

log = logging.getLogger(__name__)

T = TypeVar("T")
# Wraps an iterable to show progress (tqdm in the CLI); identity by default.
Progress = Callable[[Iterable[T], int, str], Iterable[T]]
REEMBED_BATCH = 32


def no_progress(items: Iterable[T], total: int, description: str) -> Iterable[T]:
    return items


def open_gallery(
    directory: Path, params: IndexParams, catalog: Catalog, stages: Stages, image_dir: Path
) -> GalleryIndex:
    """The persisted index if it matches the catalog, else one rebuilt from the catalog."""
    embedder = stages.embedder.name
    reembed(catalog, stages, image_dir, only_stale=True)
    gallery = GalleryIndex.load(directory, params, embedder)
    if gallery is not None and gallery.live_ids == current_image_ids(catalog.images(), embedder, params.dim):
        log.info("gallery v%d loaded: %d images", gallery.version, gallery.live_count)
        return gallery
    log.warning("gallery in %s is missing or disagrees with the catalog: rebuilding", directory)
    previous_version = gallery.version if gallery is not None else 0
    gallery = GalleryIndex(params, embedder, directory)
    gallery.version = previous_version  # versions only grow, so clients can tell a rebuilt gallery apart
    rebuild(gallery, catalog)
    return gallery


def current_image_ids(images: list[ImageRecord], embedder: str, dim: int) -> set[int]:
    return {image.id for image in images if image.embedder == embedder and image.embedding.size == dim}


def rebuild(gallery: GalleryIndex, catalog: Catalog) -> int:
    """Replace the index by the catalog's stored embeddings of the gallery's embedder (also compacts)."""
    with gallery.lock:
        images = [
            image
            for image in catalog.images()
            if image.embedder == gallery.embedder and image.embedding.size == gallery.params.dim
        ]
        vectors = (
            np.stack([image.embedding for image in images])
            if images
            else np.zeros((0, gallery.params.dim), np.float32)
        )
        gallery.rebuild(vectors, [image.id for image in images])
    log.info("gallery v%d rebuilt: %d images", gallery.version, len(images))
    return len(images)


def reembed(
    catalog: Catalog,
    stages: Stages,
    image_dir: Path,
    only_stale: bool,
    progress: Progress[list[ImageRecord]] = no_progress,
) -> int:
    """Embed stored photos again with the current embedder; returns how many were updated."""
    embedder = stages.embedder
    images = [
        image
        for image in catalog.images()
        if not only_stale or image.embedder != embedder.name or image.embedding.size != embedder.dim
    ]
    batches = [images[i : i + REEMBED_BATCH] for i in range(0, len(images), REEMBED_BATCH)]
    updated = 0
    for batch in progress(batches, len(batches), "re-embedding"):
        crops, ids = [], []
        for image in batch:
            try:
                decoded = stages.decode((image_dir / image.image_path).read_bytes())
            except (OSError, TrayscanError) as error:
                log.warning(
                    "gallery image %d cannot be re-embedded (%s): left out of the index", image.id, error
                )
                continue
            crops.extend(stages.crop(decoded, [image.box]))
            ids.append(image.id)
        embeddings = stages.embed(crops)
        catalog.replace_embeddings(dict(zip(ids, embeddings, strict=True)), embedder.name)
        updated += len(ids)
    return updated
