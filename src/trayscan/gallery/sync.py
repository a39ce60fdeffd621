"""Keep the index in step with the catalog, which is the source of truth.

At startup the persisted index is checked against the catalog's gallery images and rebuilt from the stored
embeddings when they disagree. Images embedded by another embedder (a new model was installed) are re-embedded
from their stored photos first.
"""

from __future__ import annotations

import logging
from pathlib import Path

from trayscan.catalog.repository import Catalog, ImageRecord
from trayscan.errors import TrayscanError
from trayscan.gallery.details import stored_crop
from trayscan.gallery.index import GalleryIndex, IndexParams
from trayscan.pipeline.recognize import Stages
from trayscan.progress import Progress, no_progress

log = logging.getLogger(__name__)

REEMBED_BATCH = 32


def open_gallery(
    directory: Path, params: IndexParams, catalog: Catalog, stages: Stages, image_dir: Path
) -> GalleryIndex:
    """The persisted index brought up to date with the catalog, else one rebuilt from the catalog."""
    embedder = stages.embedder.name
    reembed(catalog, stages, image_dir, only_stale=True)
    gallery = GalleryIndex.load(directory, params, embedder)
    if gallery is not None and catch_up(gallery, catalog):
        log.info("gallery v%d loaded: %d images", gallery.version, gallery.live_count)
        return gallery
    log.warning("gallery in %s is missing or disagrees with the catalog: rebuilding", directory)
    previous_version = gallery.version if gallery is not None else 0
    gallery = GalleryIndex(params, embedder, directory)
    gallery.version = previous_version  # versions only grow, so clients can tell a rebuilt gallery apart
    rebuild(gallery, catalog)
    return gallery


def catch_up(gallery: GalleryIndex, catalog: Catalog) -> bool:
    """Add the catalog's images that the index file lacks (enrolled after its last full save) and tombstone
    ids the catalog no longer has. False when only a rebuild can help (an id tombstoned in the index is back)."""
    with gallery.lock:
        wanted = catalog.embedded_image_ids(gallery.embedder, gallery.params.dim)
        indexed = gallery.indexed_ids
        if wanted & (indexed - gallery.live_ids):
            return False
        missing = wanted - indexed
        if missing:
            ids, vectors = catalog.embeddings(gallery.embedder, gallery.params.dim, missing)
            gallery.add(vectors, ids)
            log.info("gallery: %d images enrolled after the last full save added from the catalog", len(ids))
        gone = gallery.live_ids - wanted
        if gone:
            gallery.remove(sorted(gone))
            log.info("gallery: %d images no longer in the catalog tombstoned", len(gone))
        return gallery.live_ids == wanted


def rebuild(gallery: GalleryIndex, catalog: Catalog) -> int:
    """Replace the index by the catalog's stored embeddings of the gallery's embedder (also compacts)."""
    with gallery.lock:
        ids, vectors = catalog.embeddings(gallery.embedder, gallery.params.dim)
        gallery.rebuild(vectors, ids)
    log.info("gallery v%d rebuilt: %d images", gallery.version, len(ids))
    return len(ids)


def reembed(
    catalog: Catalog,
    stages: Stages,
    image_dir: Path,
    only_stale: bool,
    progress: Progress[list[ImageRecord]] = no_progress,
) -> int:
    """Embed stored photos again with the current embedder; returns how many were updated."""
    embedder = stages.embedder
    if only_stale:  # the usual start-up case: find stale ids without reading any embedding
        stale = catalog.image_ids() - catalog.embedded_image_ids(embedder.name, embedder.dim)
        images = catalog.images_by_ids(stale) if stale else []
    else:
        images = catalog.images()
    batches = [images[i : i + REEMBED_BATCH] for i in range(0, len(images), REEMBED_BATCH)]
    updated = 0
    for batch in progress(batches, len(batches), "re-embedding"):
        crops, ids = [], []
        for image in batch:
            try:
                crop = stored_crop(stages, image_dir, image)
            except (OSError, TrayscanError) as error:
                log.warning(
                    "gallery image %d cannot be re-embedded (%s): left out of the index", image.id, error
                )
                continue
            crops.append(crop)
            ids.append(image.id)
        embeddings = stages.embed(crops)
        catalog.replace_embeddings(dict(zip(ids, embeddings, strict=True)), embedder.name)
        updated += len(ids)
    return updated
