"""Inputs of the benchmarks: tray photos with an exact number of items, and products to enrol.

Trays are rendered in memory by the synthetic world (`trayscan synth`'s scenes) with the demo world's seed, so a
benchmark needs no generated data set. Products and their enrolment photos come from a synth folder
(`catalog.csv` + `enrol/<SKU>/*.jpg`, e.g. data/train) when one is given, else they are rendered too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from trayscan.gallery.build import product_photos, read_catalog_csv
from trayscan.synth.camera import encode_jpeg
from trayscan.synth.dataset import tray_products
from trayscan.synth.scenes import render_enrolment, render_tray
from trayscan.synth.world import build_world

TRAY_QUALITY = 90


@dataclass(frozen=True)
class BenchProduct:
    sku: str
    name: str
    price: Decimal
    currency: str
    photos: list[bytes]


def trays_with(
    n_items: int, count: int, seed: int = 1, families: int = 60, size: tuple[int, int] = (1280, 960)
) -> list[bytes]:
    """`count` JPEG tray photos of exactly `n_items` train-SKU items each (deterministic)."""
    pool = tray_products(build_world(seed, families), "train")
    photos = []
    for index in range(count):
        rng = np.random.default_rng([seed, 9_000, n_items, index])
        photo, _ = render_tray(pool, rng, size[0], size[1], n_items, n_items, "standard")
        photos.append(encode_jpeg(photo, TRAY_QUALITY))
    return photos


def products_from_folder(folder: Path, split: str, photos_per_sku: int) -> Iterator[BenchProduct]:
    for row in read_catalog_csv(folder / "catalog.csv", "CNY"):
        if split != "all" and row.split != split:
            continue
        paths = product_photos(folder / "enrol", row.sku)[:photos_per_sku]
        if paths:
            yield BenchProduct(row.sku, row.name, row.price, row.currency, [p.read_bytes() for p in paths])


def rendered_products(
    split: str, photos_per_sku: int, seed: int = 1, families: int = 60
) -> Iterator[BenchProduct]:
    for index, product in enumerate(build_world(seed, families)):
        if split != "all" and product.split != split:
            continue
        photos = []
        for shot in range(photos_per_sku):
            photo, _ = render_enrolment(product, np.random.default_rng([seed, 9_100, index, shot]))
            photos.append(encode_jpeg(photo, TRAY_QUALITY))
        yield BenchProduct(product.sku, product.name, Decimal(str(product.price)), product.currency, photos)


def bench_products(folder: Path | None, split: str, photos_per_sku: int) -> Iterator[BenchProduct]:
    if folder is not None and (folder / "catalog.csv").is_file() and (folder / "enrol").is_dir():
        return products_from_folder(folder, split, photos_per_sku)
    return rendered_products(split, photos_per_sku)
