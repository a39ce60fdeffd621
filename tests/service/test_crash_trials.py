"""Issue 22, deliverable 5: kill -9 at random moments of the first start (demo seeding), enrolment, deletion and
compaction; after each, a restart must find catalog = index = photo files, and a complete demo catalog.

20 trials, seeded; each child is forked from a forkserver that has imported the service once, so a trial costs
about a second. The restart is the service's own start-up (`build_services`: catalog migration, orphan photo
removal, gallery check against the catalog, demo seeding or its completion).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import signal
import time
from decimal import Decimal
from pathlib import Path

import pytest

from trayscan.catalog import Catalog
from trayscan.compose import Parts, build_services
from trayscan.config import Settings
from trayscan.gallery.cli import run_compact
from trayscan.gallery.details import VIEW_SUFFIX
from trayscan.gallery.enrolment import Photo

from .builders import PURPLE, RED, encode, product_photo
from .conftest import make_settings
from .demo_world import PHOTOS_PER_PRODUCT, write_world
from .fakes import BlobDetector, HistogramEmbedder

TRIALS = 20
KINDS = ["first_start", "enrol", "delete", "compact"]


def trial_settings(root: Path) -> Settings:
    return make_settings(root, demo={"enabled": True, "split": "all"}, server={"cpu_threads": 1})


def open_services(settings: Settings):  # type: ignore[no-untyped-def]
    return build_services(settings, Parts(detector=BlobDetector(), embedder=HistogramEmbedder()))


def child(kind: str, root: str, seed: int, ready: multiprocessing.synchronize.Event) -> None:
    """The service doing one kind of work until it is killed."""
    settings = trial_settings(Path(root))
    rng = random.Random(seed)
    if kind == "first_start":
        ready.set()
        open_services(settings)
        time.sleep(60)
        return
    if kind == "compact":  # `trayscan gallery compact` runs with the service stopped: a deletion, then compaction
        ready.set()
        while True:
            services = open_services(settings)
            images = services.catalog.images()
            if images:
                services.enroller.remove_image(rng.choice(images).id)
            services.catalog.close()
            run_compact(settings)
    services = open_services(settings)
    ready.set()
    photos = [Photo(f"{k}.png", encode(product_photo((RED, PURPLE), box=(50 + k, 40, 200, 190)))) for k in range(8)]
    step = 0
    while True:
        step += 1
        if kind == "enrol":
            sku = f"NEW{seed}-{step}"
            services.catalog.create_product(sku, sku, Decimal("1.00"), "CNY")
            services.enroller.enrol(sku, photos[: rng.randint(1, 8)])
        else:
            images = services.catalog.images()
            if not images:
                time.sleep(60)
            if rng.random() < 0.5:
                services.enroller.remove_image(rng.choice(images).id)
            else:
                services.enroller.remove_product(rng.choice(images).sku)


def photo_files(image_dir: Path) -> set[str]:
    if not image_dir.is_dir():
        return set()
    return {
        p.relative_to(image_dir).as_posix()
        for p in image_dir.glob("*/*")
        if p.is_file() and VIEW_SUFFIX not in p.name
    }


def left_by_the_kill(settings: Settings) -> dict[str, int]:
    """What the killed process left, before any restart: orphan photo files, a completed demo seeding."""
    catalog = Catalog.open(settings.sqlalchemy_url)
    try:
        orphans = photo_files(settings.image_dir) - {image.image_path for image in catalog.images()}
    finally:
        catalog.close()
    return {"orphans": len(orphans), "demo_seeded": int((settings.demo_dir / "seeded").is_file())}


def check_consistent(settings: Settings, demo_skus: list[str] | None) -> dict[str, int]:
    """Restart; catalog = index = files. `demo_skus`: after a first start, the whole demo catalog is there."""
    services = open_services(settings)
    try:
        catalog, gallery = services.catalog, services.gallery
        image_ids = catalog.image_ids()
        assert gallery.live_ids == image_ids, "index and catalog disagree"
        stored = {image.image_path for image in catalog.images()}
        assert photo_files(settings.image_dir) == stored, "photo files and catalog disagree"
        skus = {product.sku for product in catalog.list_products(0, 10**6)[0]}
        if demo_skus is not None:
            counts = catalog.image_counts()
            assert skus == set(demo_skus), f"demo catalog incomplete: {len(skus)} of {len(demo_skus)} products"
            assert all(counts.get(sku) == PHOTOS_PER_PRODUCT for sku in demo_skus), counts
        return {"products": len(skus), "images": len(image_ids)}
    finally:
        services.catalog.close()


@pytest.mark.slow
def test_kill_9_at_random_moments_then_restart_is_consistent(tmp_path: Path) -> None:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["trayscan.compose", "tests.service.fakes", "trayscan.gallery.cli"])
    world = tmp_path / "world"
    demo_skus = write_world(world)
    root = tmp_path / "service"
    settings = trial_settings(root)
    rng = random.Random(22)
    outcomes = []
    for trial in range(TRIALS):
        kind = KINDS[trial % len(KINDS)]
        if kind == "first_start":  # a fresh install: nothing but the generated demo world
            shutil.rmtree(root, ignore_errors=True)
            shutil.copytree(world, settings.demo_dir)
        ready = context.Event()
        process = context.Process(target=child, args=(kind, str(root), trial, ready))
        process.start()
        assert ready.wait(60), f"trial {trial} ({kind}): the child did not start"
        time.sleep(rng.uniform(0.0, 1.2 if kind == "first_start" else 0.4))
        os.kill(process.pid, signal.SIGKILL)
        process.join(10)
        assert process.exitcode == -signal.SIGKILL, f"trial {trial} ({kind}) ended before the kill"
        left = left_by_the_kill(settings)
        outcomes.append((kind, left, check_consistent(settings, demo_skus if kind == "first_start" else None)))
        assert (settings.demo_dir / "seeded").is_file(), "the restart did not mark the demo seeding done"
    print("\n".join(f"{kind}: left {left}, after restart {after}" for kind, left, after in outcomes))
    assert len(outcomes) == TRIALS
    # The kills hit work in progress: some first starts were cut short of a complete demo catalog.
    assert any(left["demo_seeded"] == 0 for kind, left, _ in outcomes if kind == "first_start")
