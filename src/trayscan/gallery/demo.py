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
    """Fill an empty catalog with the demo products; a catalog that has products is left alone."""
    if catalog.list_products(limit=1)[1] > 0:
        return BuildReport()
    generate_world(demo, out)
    report = build_gallery(
        read_catalog_csv(out / "catalog.csv", currency), out / "enrol", catalog, enroller, demo.split
    )
    log.info("demo catalog: %d products, %d images", report.products_created, report.images_enrolled)
    return report
