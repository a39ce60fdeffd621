"""Builds the service's parts from settings: models, catalog, gallery, recognizer, enroller.

The one place that wires them: the HTTP app's lifespan, the gallery and eval CLIs and the benchmarks all build
their parts here, so none of them depends on the web layer. `load_models` is the one place that knows how
engines are loaded (they live in `trayscan.inference`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import faiss

from trayscan.catalog.idempotency import IdempotencyRecords
from trayscan.catalog.repository import Catalog
from trayscan.config import Settings
from trayscan.feedback import Feedback
from trayscan.gallery.demo import seed_demo_catalog
from trayscan.gallery.details import GalleryDetails
from trayscan.gallery.enrolment import Enroller
from trayscan.gallery.follow import GalleryFollower, follows_catalog
from trayscan.gallery.index import GalleryIndex, IndexParams
from trayscan.gallery.reconcile import remove_orphan_photos
from trayscan.gallery.sync import open_gallery
from trayscan.inference import Detector, Embedder, load_detector, load_embedder
from trayscan.inference.fusion import with_fusion
from trayscan.inference.views import with_rotations
from trayscan.pipeline.box_scorer import load_box_scorer
from trayscan.pipeline.budget import PixelBudget
from trayscan.pipeline.centres import CentreCache
from trayscan.pipeline.decode import ImageLimits
from trayscan.pipeline.recognize import Recognizer, Stages
from trayscan.pipeline.text_check import load_reader
from trayscan.services import Services

IDEMPOTENCY_TTL = timedelta(hours=24)  # a kiosk or staff page retries within seconds; a day covers any outage
ORPHAN_GRACE_S = 600.0  # an enrolment writes and commits its photos within seconds


@dataclass
class Parts:
    """Ready-made parts handed to `create_app` (tests, embedding apps); missing ones are loaded at startup."""

    detector: Detector | None = None
    embedder: Embedder | None = None
    gallery: GalleryIndex | None = None
    catalog: Catalog | None = None


def load_models(settings: Settings) -> tuple[Detector, Embedder]:
    models = settings.models
    detector = with_fusion(
        load_detector(models.detector_dir, models.engine, models.threads),
        [load_detector(path, models.engine, models.threads) for path in models.detector_extra_dirs],
        models.detector_mirror,
    )
    embedder = load_embedder(models.embedder_dir, models.engine, models.threads)
    return detector, with_rotations(embedder, models.embed_rotations)


def index_params(settings: Settings) -> IndexParams:
    gallery = settings.gallery
    return IndexParams(
        gallery.dim, gallery.hnsw_m, gallery.ef_construction, gallery.ef_search, gallery.full_save_adds
    )


def build_stages(settings: Settings, detector: Detector, embedder: Embedder) -> Stages:
    limits = ImageLimits(
        settings.limits.max_upload_bytes, settings.limits.max_pixels, settings.limits.checkout_decode_long_side
    )
    models = settings.models
    scorer = load_box_scorer(
        models.box_scorer_dir, detector.name, embedder.name, (models.detector_dir, models.embedder_dir)
    )
    budget = PixelBudget(settings.limits.decode_pixels_in_flight)
    reader = load_reader(settings.pipeline.text_check)
    return Stages(detector, embedder, settings.pipeline, limits, scorer, budget, reader)


def gallery_details(settings: Settings, catalog: Catalog, stages: Stages) -> GalleryDetails:
    check = settings.pipeline.sibling_check
    return GalleryDetails(catalog, stages, settings.image_dir, check.detail_side, check.cache_images,
                          check.max_keypoints)


def sku_centres(catalog: Catalog, gallery: GalleryIndex, embedder: str, dim: int) -> CentreCache:
    def version() -> int:
        # Under the lock that an enrolment holds until its catalog commit: a version read here is never ahead of
        # the rows the catalog shows.
        with gallery.lock:
            return gallery.version

    return CentreCache(lambda skus: catalog.sku_embeddings(skus, embedder, dim), version)


def build_services(settings: Settings, parts: Parts) -> Services:
    """Load whatever `parts` lacks and wire the use cases. Blocking: run it off the event loop."""
    detector, embedder = parts.detector, parts.embedder
    if detector is None or embedder is None:
        loaded_detector, loaded_embedder = load_models(settings)
        detector, embedder = detector or loaded_detector, embedder or loaded_embedder
    if embedder.dim != settings.gallery.dim:
        raise RuntimeError(
            f"embedder {embedder.name} gives {embedder.dim}-d features, gallery is {settings.gallery.dim}-d"
        )
    faiss.omp_set_num_threads(settings.gallery.search_threads)  # measured: 25 ms -> 2 ms per 10-item tray
    catalog = parts.catalog or Catalog.open(settings.sqlalchemy_url)
    stages = build_stages(settings, detector, embedder)
    # Photos left by a crash; other replicas of a PostgreSQL catalog may be writing theirs right now.
    orphan_grace_s = ORPHAN_GRACE_S if follows_catalog(settings.sqlalchemy_url) else 0.0
    remove_orphan_photos(catalog, settings.image_dir, orphan_grace_s)
    gallery = parts.gallery or open_gallery(
        settings.gallery.dir, index_params(settings), catalog, stages, settings.image_dir
    )
    enroller = Enroller(stages, catalog, gallery, settings.image_dir, settings.pipeline.confusable_similarity)
    services = Services(
        settings=settings,
        catalog=catalog,
        gallery=gallery,
        recognizer=Recognizer(
            stages, gallery, catalog.active_labels, gallery_details(settings, catalog, stages).views,
            catalog.kiosk_sizes, sku_centres(catalog, gallery, embedder.name, settings.gallery.dim),
            catalog.sku_texts,
        ),
        enroller=enroller,
        idempotency=IdempotencyRecords(catalog.database, IDEMPOTENCY_TTL),
        feedback=Feedback(settings, catalog, stages, enroller),
    )
    services.feedback.purge_photos()
    if settings.demo.enabled:
        seed_demo_catalog(settings.demo, settings.demo_dir, catalog, enroller, settings.currency)
    return services


def start_follower(settings: Settings, services: Services) -> GalleryFollower | None:
    """Replicas on one PostgreSQL catalog: this index follows what the others enrol and remove."""
    if not (settings.gallery.follow_catalog and follows_catalog(settings.sqlalchemy_url)):
        return None
    follower = GalleryFollower(settings.sqlalchemy_url, services.gallery, services.catalog)
    follower.start()
    return follower
