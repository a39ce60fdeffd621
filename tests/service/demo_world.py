"""A small demo world laid out as `trayscan synth` writes it, for the demo seeding tests."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from .builders import BLUE, GREEN, ORANGE, PURPLE, RED, YELLOW, encode, product_photo

COLOURS = [RED, GREEN, BLUE, YELLOW, PURPLE, ORANGE]
DEMO_PRODUCTS = 12
PHOTOS_PER_PRODUCT = 3


def write_world(out: Path) -> list[str]:
    """A small demo world as `trayscan synth` lays it out: catalog.csv, manifest.json, enrol/<SKU>/*.png."""
    out.mkdir(parents=True, exist_ok=True)
    skus = [f"TS{i:04d}" for i in range(1, DEMO_PRODUCTS + 1)]
    with (out / "catalog.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sku", "name", "price", "currency", "split"])
        for i, sku in enumerate(skus):
            writer.writerow([sku, f"Product {i}", f"{1 + i}.50", "CNY", "train"])
    for i, sku in enumerate(skus):
        design = (COLOURS[i % 6], COLOURS[(i // 6 + i + 1) % 6])
        (out / "enrol" / sku).mkdir(parents=True, exist_ok=True)
        for k in range(PHOTOS_PER_PRODUCT):
            photo = product_photo(design, box=(60 + 10 * k, 40, 220, 200))
            (out / "enrol" / sku / f"{k}.png").write_bytes(encode(photo))
    (out / "manifest.json").write_text(json.dumps({"products": len(skus)}))
    return skus
