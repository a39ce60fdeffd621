"""`trayscan gallery`: bulk enrolment and maintenance of the gallery index.

  build --catalog CSV --images DIR   create the CSV's products and enrol their photos (DIR/<SKU>/*.jpg)
  rebuild                            embed every stored photo again with the current embedder, rebuild the index
  rebox                              find the product again in every stored enrolment photo (pipeline.enrolment_box),
                                     embed the photos whose box moved, rebuild the index
  compact                            rebuild the index from stored embeddings, dropping deleted vectors

Run these while the service is stopped: a running service keeps its own copy of the index.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from pydantic import ValidationError

from trayscan.catalog.repository import Catalog
from trayscan.compose import Parts, build_services, index_params
from trayscan.config import DemoSettings, Settings, load_settings
from trayscan.errors import TrayscanError
from trayscan.gallery.build import build_gallery, read_catalog_csv
from trayscan.gallery.index import GalleryIndex
from trayscan.gallery.sync import rebuild, reembed
from trayscan.progress import bar
from trayscan.services import Services


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trayscan gallery", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--config", type=Path, help="YAML settings (default: $TRAYSCAN_CONFIG or configs/default.yaml)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="enrol the products of a catalog CSV from a folder of photos")
    build.add_argument("--catalog", type=Path, required=True, help="CSV with sku,name,price[,currency,split]")
    build.add_argument(
        "--images", type=Path, required=True, help="folder with one sub-folder of photos per SKU"
    )
    build.add_argument("--split", choices=["all", "train", "novel"], default="all", help="CSV rows to enrol")
    commands.add_parser("rebuild", help="re-embed every stored photo and rebuild the index")
    commands.add_parser("rebox", help="find the product again in every stored enrolment photo, rebuild the index")
    commands.add_parser("compact", help="rebuild the index from stored embeddings (drops deleted vectors)")
    return parser


def open_services(settings: Settings) -> Services:
    """Models, catalog and a gallery checked against it, without seeding the demo catalog."""
    return build_services(settings.model_copy(update={"demo": DemoSettings(enabled=False)}), Parts())


def run_build(settings: Settings, catalog_csv: Path, images: Path, split: str) -> str:
    rows = read_catalog_csv(catalog_csv, settings.currency)
    services = open_services(settings)
    report = build_gallery(rows, images, services.catalog, services.enroller, split, bar())
    return (
        f"{report.products_created} products created ({report.products_skipped} already there), "
        f"{report.images_enrolled} images enrolled; gallery v{services.gallery.version}, "
        f"{services.gallery.live_count} vectors"
    )


def run_rebuild(settings: Settings) -> str:
    services = open_services(settings)
    count = reembed(services.catalog, services.recognizer.stages, settings.image_dir, False, bar())
    rebuild(services.gallery, services.catalog)
    return f"{count} photos re-embedded; gallery v{services.gallery.version}, {services.gallery.live_count} vectors"


def run_rebox(settings: Settings) -> str:
    services = open_services(settings)
    moved = services.enroller.rebox(bar())
    rebuild(services.gallery, services.catalog)
    return (
        f"{moved} photos' boxes moved (rule {settings.pipeline.enrolment_box}); gallery v{services.gallery.version}, "
        f"{services.gallery.live_count} vectors"
    )


def run_compact(settings: Settings) -> str:
    directory = settings.gallery.dir
    embedder = GalleryIndex.stored_embedder(directory)
    gallery = GalleryIndex.load(directory, index_params(settings), embedder) if embedder else None
    if gallery is None:
        raise TrayscanError(f"no gallery in {directory} to compact: run `trayscan gallery rebuild`")
    dropped = gallery.deleted_count
    catalog = Catalog.open(settings.sqlalchemy_url)
    try:
        rebuild(gallery, catalog)
    finally:
        catalog.close()
    return f"{dropped} deleted vectors dropped; gallery v{gallery.version}, {gallery.live_count} vectors"


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(args.config)
        if args.command == "build":
            message = run_build(settings, args.catalog, args.images, args.split)
        elif args.command == "rebuild":
            message = run_rebuild(settings)
        elif args.command == "rebox":
            message = run_rebox(settings)
        else:
            message = run_compact(settings)
    except (OSError, ValueError, ValidationError, RuntimeError, TrayscanError) as error:
        print(f"trayscan gallery {args.command}: {error}", file=sys.stderr)
        return 1
    print(message)
    return 0
