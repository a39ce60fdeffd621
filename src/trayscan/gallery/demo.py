"""The demo catalog of a fresh install: the synthetic world's products, enrolled from their enrolment photos."""

from __future__ import annotations

import logging
from pathlib import Path

from trayscan.catalog.repository import Catalog
from trayscan.config import DemoSettings
from trayscan.gallery.build import BuildReport, build_gallery, read_catalog_csv
from trayscan.gallery.enrolment import Enroller

log = logging.getLogger(__name__)

SEEDED_MARKER = "seeded"


def generate_world(demo: DemoSettings, out: Path) -> None:
    """Write the synthetic world (catalog.csv + enrolment photos, no trays) unless it is there already."""
    if (out / "catalog.csv").is_file() and (out / "manifest.json").is_file():
        return
    from trayscan.synth.cli import main as synth_main  # imported late: only a fresh install needs it

    log.info("generating the demo world in %s (seed %d, %d families)", out, demo.seed, demo.families)
    argv = ["--out", str(out), "--seed", str(demo.seed), "--families", str(demo.families), "--trays", "0"]
    if synth_main(argv) != 0:
        raise RuntimeError(f"trayscan synth {' '.join(argv)} failed")


def seed_demo_catalog(
    demo: DemoSettings, out: Path, catalog: Catalog, enroller: Enroller, currency: str
) -> BuildReport:
    """Fill an empty catalog with the demo products, or finish a demo seeding that a crash interrupted.

    The seeding writes `out/seeded` when it completes. A catalog holding products without that marker is a
    half-seeded demo when its products are the first ones of the demo's CSV (the order a seeding creates them
    in): the rest are created and enrolled, and a product created without its photos gets them. Any other
    catalog (the store's own products, or demo products some of which staff deleted) is left alone.
    """
    skus = catalog.skus()
    marker = out / SEEDED_MARKER
    if skus and marker.is_file():
        return BuildReport()
    generate_world(demo, out)
    rows = read_catalog_csv(out / "catalog.csv", currency)
    if skus:
        # A seeding creates the products in CSV order: an interrupted one left the first n of them.
        selected = [row.sku for row in rows if demo.split == "all" or row.split == demo.split]
        if skus != set(selected[: len(skus)]):
            log.info("the catalog's %d products are not an interrupted demo seeding: left alone", len(skus))
            return BuildReport()
        log.warning("the demo seeding was interrupted (%d of %d products): completing it", len(skus), len(selected))
    report = build_gallery(rows, out / "enrol", catalog, enroller, demo.split)
    marker.write_text(f"{report.products_created + report.products_resumed + report.products_skipped}\n")
    log.info(
        "demo catalog: %d products created, %d completed, %d images",
        report.products_created, report.products_resumed, report.images_enrolled,
    )
    return report
