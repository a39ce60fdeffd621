"""A tiny checkout world in `trayscan synth`'s file format, made of two-colour blocks the fake models handle.

`write_world` writes catalog.csv, enrol/<SKU>/00.png and trays/*.png with a COCO annotations.json, and
registers each tray's true boxes with the fake detector (touching items stay apart, as a trained detector keeps
them).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from tests.service.builders import (
    BLUE,
    GREEN,
    ORANGE,
    PURPLE,
    RED,
    YELLOW,
    Design,
    encode,
    product_photo,
    tray,
)
from tests.service.fakes import BlobDetector

Box = tuple[float, float, float, float]

DESIGNS: dict[str, Design] = {
    "SKU-A": (RED, BLUE),
    "SKU-B": (YELLOW, GREEN),
    "SKU-C": (PURPLE, ORANGE),
    "SKU-D": (GREEN, RED),
    "SKU-E": (BLUE, YELLOW),
    "SKU-F": (RED, YELLOW),
}
SIZE, STEP = 80, 140  # item side and grid pitch on a 640x480 tray: items never touch


def grid_box(index: int) -> Box:
    row, col = divmod(index, 4)
    x, y = 30 + col * STEP, 40 + row * STEP
    return (float(x), float(y), float(x + SIZE), float(y + SIZE))


# Tray contents, SKUs in grid order: 2 items (easy), 3, 8 (medium: more than PP-ShiTu's 5 boxes).
TRAYS: list[list[str]] = [
    ["SKU-A", "SKU-B"],
    ["SKU-C", "SKU-C", "SKU-D"],
    ["SKU-A", "SKU-B", "SKU-C", "SKU-D", "SKU-E", "SKU-F", "SKU-A", "SKU-B"],
]


def write_world(
    out: Path, detector: BlobDetector | None = None, trays: list[list[str]] | None = None, shade: float = 1.0
) -> Path:
    """`shade` < 1 darkens the items on the trays (not the enrolment photos): another camera and light."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "catalog.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sku", "name", "family", "shape", "split", "price", "currency"])
        for i, sku in enumerate(DESIGNS):
            writer.writerow([sku, f"Product {sku}", "F000", "box", "novel", f"{2 + i}.50", "CNY"])
    for sku, design in DESIGNS.items():
        (out / "enrol" / sku).mkdir(parents=True, exist_ok=True)
        (out / "enrol" / sku / "00.png").write_bytes(encode(product_photo(design)))
    (out / "trays").mkdir(exist_ok=True)
    categories = [{"id": i + 1, "name": sku, "supercategory": "F000"} for i, sku in enumerate(DESIGNS)]
    category_id = {c["name"]: c["id"] for c in categories}
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for t, skus in enumerate(TRAYS if trays is None else trays, start=1):
        boxes = [grid_box(i) for i in range(len(skus))]
        photo = tray([(DESIGNS[sku], box) for sku, box in zip(skus, boxes, strict=True)])
        if shade != 1.0:
            items = photo.min(axis=2) < 250
            photo[items] = (photo[items] * shade).astype(photo.dtype)
        name = f"trays/{t:06d}.png"
        (out / name).write_bytes(encode(photo))
        if detector is not None:
            detector.register(photo, boxes)
        level = "easy" if len(skus) <= 7 else "medium"
        images.append({"id": t, "file_name": name, "width": 640, "height": 480, "level": level})
        for sku, (x1, y1, x2, y2) in zip(skus, boxes, strict=True):
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": t,
                    "category_id": category_id[sku],
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "area": (x2 - x1) * (y2 - y1),
                    "iscrowd": 0,
                }
            )
    coco = {"images": images, "annotations": annotations, "categories": categories}
    (out / "annotations.json").write_text(json.dumps(coco))
    return out
