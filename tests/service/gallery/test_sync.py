"""The startup check: the index follows the catalog, rebuilt from stored embeddings or re-embedded photos."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tests.postgres import DATABASES
from trayscan.catalog import Catalog
from trayscan.compose import build_stages, index_params
from trayscan.config import Settings
from trayscan.gallery import GalleryIndex
from trayscan.gallery.enrolment import Enroller, Photo
from trayscan.gallery.sync import open_gallery

from ..builders import encode, product_photo
from ..conftest import COLA, LEMONADE
from ..fakes import BlobDetector, HistogramEmbedder

pytestmark = pytest.mark.parametrize("database", DATABASES, indirect=True)


class OtherEmbedder(HistogramEmbedder):
    name = "fake-embedder-v2"


def enrolled(settings: Settings, catalog: Catalog) -> tuple[GalleryIndex, Enroller]:
    stages = build_stages(settings, BlobDetector(), HistogramEmbedder())
    gallery = open_gallery(settings.gallery.dir, index_params(settings), catalog, stages, settings.image_dir)
    enroller = Enroller(stages, catalog, gallery, settings.image_dir, 0.9)
    for sku, design in (("COLA", COLA), ("LEMONADE", LEMONADE)):
        catalog.create_product(sku, sku, Decimal("1"), "CNY")
        enroller.enrol(
            sku,
            [
                Photo("a.png", encode(product_photo(design))),
                Photo("b.jpg", encode(product_photo(design), "JPEG")),
            ],
        )
    return gallery, enroller


def reopen(settings: Settings, catalog: Catalog, embedder: HistogramEmbedder | None = None) -> GalleryIndex:
    stages = build_stages(settings, BlobDetector(), embedder or HistogramEmbedder())
    return open_gallery(settings.gallery.dir, index_params(settings), catalog, stages, settings.image_dir)


def test_consistent_gallery_is_loaded_as_is(settings: Settings, catalog: Catalog) -> None:
    gallery, _ = enrolled(settings, catalog)
    gallery.flush()
    again = reopen(settings, catalog)
    assert (again.version, again.live_ids) == (gallery.version, catalog.image_ids())


def test_gallery_missing_vectors_is_rebuilt_from_the_catalog(settings: Settings, catalog: Catalog) -> None:
    gallery, _ = enrolled(settings, catalog)
    stale = GalleryIndex(
        gallery.params, gallery.embedder, settings.gallery.dir
    )  # an index that lost everything
    stale.version = gallery.version
    stale.add(np.zeros((0, 512), np.float32), [])
    again = reopen(settings, catalog)
    assert again.live_ids == catalog.image_ids() and len(again.live_ids) == 4
    assert again.version > gallery.version


def test_deleted_gallery_files_are_rebuilt(settings: Settings, catalog: Catalog) -> None:
    enrolled(settings, catalog)
    for path in Path(settings.gallery.dir).iterdir():
        path.unlink()
    assert reopen(settings, catalog).live_ids == catalog.image_ids()


def test_new_embedder_re_embeds_the_stored_photos(settings: Settings, catalog: Catalog) -> None:
    enrolled(settings, catalog)
    again = reopen(settings, catalog, OtherEmbedder())
    assert again.embedder == "fake-embedder-v2" and again.live_ids == catalog.image_ids()
    assert {image.embedder for image in catalog.images()} == {"fake-embedder-v2"}


def test_compaction_drops_tombstones_and_keeps_answers(settings: Settings, catalog: Catalog) -> None:
    from trayscan.gallery.sync import rebuild

    gallery, enroller = enrolled(settings, catalog)
    enroller.remove_product("LEMONADE")
    assert gallery.deleted_count == 2
    rebuild(gallery, catalog)
    assert gallery.deleted_count == 0 and gallery.live_ids == catalog.image_ids()


def test_enrolments_after_the_last_full_save_are_added_back(settings: Settings, catalog: Catalog) -> None:
    # A crash after enrolments that only rewrote the manifest: the catalog's embeddings fill the gap, no rebuild.
    gallery, enroller = enrolled(settings, catalog)
    saved = GalleryIndex.load(settings.gallery.dir, gallery.params, gallery.embedder)
    assert saved is not None and len(saved.indexed_ids) < len(catalog.image_ids())
    enroller.remove_image(min(catalog.image_ids()))
    again = reopen(settings, catalog)
    assert again.live_ids == catalog.image_ids() and len(again.live_ids) == 3
    assert again.version > gallery.version - 1
    cola = again.search(gallery_vector(catalog, max(catalog.image_ids())), k=1)[1]
    assert cola[0, 0] == max(catalog.image_ids())


def gallery_vector(catalog: Catalog, image_id: int) -> np.ndarray:
    [record] = catalog.images_by_ids([image_id])
    return record.embedding[None, :]
