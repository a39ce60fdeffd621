"""Bulk enrolment from a catalog CSV and a folder of photos (`trayscan gallery build`, the demo catalog).

CSV columns: `sku,name,price,currency` (more are ignored; a `split` column can select train/novel rows).
Photos: `<images>/<SKU>/*.jpg|png|webp`. Photos taken by the kiosk's own camera are marked in `<images>/annotations.json`
where there is one (as `trayscan synth` writes it: an image's `source` is `kiosk`); they keep the product's size for
the size check. Products already in the catalog keep their photos; one without photos (a build that stopped) gets them:
the build is rerunnable and resumes an interrupted one.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from trayscan.catalog.repository import Catalog
from trayscan.errors import ProductExistsError
from trayscan.gallery.enrolment import Camera, Enroller, Photo
from trayscan.progress import Progress, no_progress

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


@dataclass(frozen=True)
class CatalogRow:
    sku: str
    name: str
    price: Decimal
    currency: str
    split: str | None


@dataclass
class BuildReport:
    products_created: int = 0
    products_skipped: int = 0
    products_resumed: int = 0  # existed without photos: an interrupted build's, given their photos now
    images_enrolled: int = 0


def read_catalog_csv(path: Path, default_currency: str) -> list[CatalogRow]:
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        for line, record in enumerate(csv.DictReader(handle), start=2):
            try:
                price = Decimal(record["price"])
                rows.append(
                    CatalogRow(
                        sku=record["sku"].strip(),
                        name=record["name"].strip(),
                        price=price,
                        currency=(record.get("currency") or default_currency).strip(),
                        split=record.get("split"),
                    )
                )
            except (KeyError, AttributeError, InvalidOperation) as error:
                raise ValueError(f"{path}:{line}: need sku, name and a decimal price ({error!r})") from error
    return rows


def product_photos(images_dir: Path, sku: str) -> list[Path]:
    folder = images_dir / sku
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)


def kiosk_photos(images_dir: Path) -> set[str]:
    """`<SKU>/<file>` of the photos that `<images>/annotations.json` says the kiosk camera took (none without it)."""
    listing = images_dir / "annotations.json"
    if not listing.is_file():
        return set()
    images = json.loads(listing.read_text(encoding="utf-8")).get("images", [])
    return {"/".join(Path(str(image["file_name"])).parts[-2:]) for image in images if image.get("source") == "kiosk"}


def camera_of(path: Path, kiosk: set[str]) -> Camera:
    return "kiosk" if f"{path.parent.name}/{path.name}" in kiosk else "other"


def build_gallery(
    rows: list[CatalogRow],
    images_dir: Path,
    catalog: Catalog,
    enroller: Enroller,
    split: str = "all",
    progress: Progress[CatalogRow] = no_progress,
) -> BuildReport:
    report = BuildReport()
    selected = [row for row in rows if split == "all" or row.split == split]
    with_photos = set(catalog.image_counts())
    kiosk = kiosk_photos(images_dir)
    with enroller.gallery.deferred_saves():
        for row in progress(selected, len(selected), "enrolling"):
            try:
                catalog.create_product(row.sku, row.name, row.price, row.currency)
                report.products_created += 1
            except ProductExistsError:
                if row.sku in with_photos:
                    report.products_skipped += 1
                    continue
                # Created by a build that stopped before its photos were enrolled (each enrolment is one
                # transaction: a product has all the photos of its build or none).
                report.products_resumed += 1
            photos = [
                Photo(path.name, path.read_bytes(), camera_of(path, kiosk))
                for path in product_photos(images_dir, row.sku)
            ]
            if photos:
                report.images_enrolled += enroller.enrol(row.sku, photos).enrolled
    return report
