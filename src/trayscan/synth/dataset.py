"""Writes a synthetic retail world to disk: catalog CSV, enrolment photos, trays, COCO annotations.

Every photo has its own seed derived from (seed, kind, index), so output is byte-identical for the same
arguments whatever the number of worker processes.
"""

from __future__ import annotations

import csv
import json
import multiprocessing as mp
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from trayscan.synth import renderers
from trayscan.synth.camera import encode_jpeg
from trayscan.synth.renderers import NON_PRODUCT_CATEGORY, RENDERER_NAMES, STYLES_BY_RENDERER
from trayscan.synth.world import Product

GENERATOR_VERSION = "1.1"  # 1.1: the mesh renderer; sprite output unchanged from 1.0
CATALOG_FIELDS = ["sku", "name", "family", "shape", "split", "price", "currency"]
TRAY_SKU_CHOICES = ("train", "novel", "all")
STYLES = STYLES_BY_RENDERER["sprite"]
# Stream tags that make enrolment and tray seeds independent of each other.
ENROL_STREAM, TRAY_STREAM = 2, 1


@dataclass(frozen=True)
class SynthConfig:
    seed: int = 1
    families: int = 60
    trays: int = 100
    enrol_per_sku: int = 5
    tray_skus: str = "all"
    tray_seed: int | None = None
    style: str = "standard"
    width: int = 1280
    height: int = 960
    min_items: int = 1
    max_items: int = 20
    renderer: str = "sprite"

    def __post_init__(self) -> None:
        if self.tray_skus not in TRAY_SKU_CHOICES:
            raise ValueError(f"tray_skus must be one of {TRAY_SKU_CHOICES}")
        if self.renderer not in RENDERER_NAMES:
            raise ValueError(f"renderer must be one of {RENDERER_NAMES}")
        styles = STYLES_BY_RENDERER[self.renderer]
        if self.style not in styles:
            raise ValueError(f"style must be one of {styles} for the {self.renderer} renderer")
        if not 1 <= self.min_items <= self.max_items:
            raise ValueError("need 1 <= min_items <= max_items")
        if self.families < 1 or self.trays < 0 or self.enrol_per_sku < 0:
            raise ValueError("families must be >= 1, trays and enrol_per_sku >= 0")

    @property
    def effective_tray_seed(self) -> int:
        return self.seed if self.tray_seed is None else self.tray_seed


def difficulty(n_items: int) -> str:
    """RPC-style level from the item count."""
    return "easy" if n_items <= 7 else "medium" if n_items <= 12 else "hard"


def tray_products(products: list[Product], tray_skus: str) -> list[Product]:
    pool = products if tray_skus == "all" else [p for p in products if p.split == tray_skus]
    if not pool:
        raise ValueError(f"no {tray_skus} SKUs in this world: use more families")
    return pool


# ---------------------------------------------------------------- workers

_WORLD: dict[str, Any] = {}


def _init_worker(config: SynthConfig) -> None:
    renderer = renderers.get(config.renderer)
    products = renderer.build_world(config.seed, config.families)
    _WORLD.update(config=config, renderer=renderer, products=products,
                  pool=tray_products(products, config.tray_skus))


def non_product_category_id(products: list[Product]) -> int:
    """The category after the last SKU: objects that lie on a tray but are not for sale."""
    return len(products) + 1


def _make_tray(index: int) -> tuple[bytes, list[tuple[int, list[int], float]], int, int]:
    config: SynthConfig = _WORLD["config"]
    rng = np.random.default_rng([config.effective_tray_seed, TRAY_STREAM, index])
    photo, items = _WORLD["renderer"].render_tray(_WORLD["pool"], rng, config.width, config.height,
                                                  config.min_items, config.max_items, config.style)
    quality = int(rng.integers(60, 96))
    other = non_product_category_id(_WORLD["products"])
    anns = [(it.product.category_id if it.product is not None else other, list(it.box), it.visible_fraction)
            for it in items]
    return encode_jpeg(photo, quality), anns, photo.shape[1], photo.shape[0]


def _make_enrolment(job: tuple[int, int]) -> tuple[bytes, list[int], int, int, str]:
    product_index, shot = job
    config: SynthConfig = _WORLD["config"]
    rng = np.random.default_rng([config.seed, ENROL_STREAM, product_index, shot])
    photo, box, source = _WORLD["renderer"].render_enrolment(_WORLD["products"][product_index], rng)
    return encode_jpeg(photo, int(rng.integers(85, 96))), list(box), photo.shape[1], photo.shape[0], source


def enrolment_jobs(config: SynthConfig, products: list[Product]) -> list[tuple[int, int]]:
    """(product index, shot) of every enrolment photo; how many a product gets is the renderer's choice."""
    count = renderers.get(config.renderer).enrolment_count
    return [(p.index, shot) for p in products
            for shot in range(count(np.random.default_rng([config.seed, ENROL_STREAM, p.index]),
                                    config.enrol_per_sku))]


def _run(config: SynthConfig, func: Callable[[Any], Any], jobs: list[Any], workers: int,
         desc: str) -> Iterator[Any]:
    if workers <= 1 or len(jobs) <= 1:
        _init_worker(config)
        yield from tqdm(map(func, jobs), total=len(jobs), desc=desc, unit="img")
        return
    # spawn, not fork: the service generates its demo world from a thread of a multi-threaded process, where a
    # forked child can inherit a held lock and hang.
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(config,)) as pool:
        yield from tqdm(pool.imap(func, jobs, chunksize=4), total=len(jobs), desc=desc, unit="img")


# ---------------------------------------------------------------- writing

def coco_categories(products: list[Product], non_products: bool = False) -> list[dict[str, Any]]:
    categories = [{"id": p.category_id, "name": p.sku, "supercategory": p.family.name} for p in products]
    if non_products:
        categories.append({"id": non_product_category_id(products), "name": NON_PRODUCT_CATEGORY,
                           "supercategory": NON_PRODUCT_CATEGORY})
    return categories


def _coco_annotation(ann_id: int, image_id: int, category_id: int, box: list[int],
                     visible: float = 1.0) -> dict[str, Any]:
    x1, y1, x2, y2 = box
    return {"id": ann_id, "image_id": image_id, "category_id": category_id,
            "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0,
            "visible_fraction": visible}


def write_catalog(path: Path, products: list[Product]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CATALOG_FIELDS)
        writer.writeheader()
        for p in products:
            writer.writerow({"sku": p.sku, "name": p.name, "family": p.family.name, "shape": p.family.shape,
                             "split": p.split, "price": str(p.price), "currency": p.currency})


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def generate(config: SynthConfig, out: Path, workers: int = 1) -> dict[str, Any]:
    """Writes the dataset and returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    renderer = renderers.get(config.renderer)
    products = renderer.build_world(config.seed, config.families)
    tray_products(products, config.tray_skus)  # fail early on an empty pool
    write_catalog(out / "catalog.csv", products)
    categories = coco_categories(products, renderer.has_non_products)

    enrol_jobs = enrolment_jobs(config, products)
    enrol_images, enrol_anns = [], []
    for image_id, ((product_index, shot), (jpeg, box, width, height, source)) in enumerate(
            zip(enrol_jobs, _run(config, _make_enrolment, enrol_jobs, workers, "enrolment"), strict=True),
            start=1):
        product = products[product_index]
        rel = f"enrol/{product.sku}/{shot:02d}.jpg"
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(jpeg)
        enrol_images.append({"id": image_id, "file_name": rel, "width": width, "height": height,
                             "sku": product.sku, "source": source})
        enrol_anns.append(_coco_annotation(image_id, image_id, product.category_id, box))
    if enrol_jobs:
        _write_json(out / "enrol" / "annotations.json",
                    {"images": enrol_images, "annotations": enrol_anns, "categories": categories})

    tray_images: list[dict[str, Any]] = []
    tray_anns: list[dict[str, Any]] = []
    (out / "trays").mkdir(exist_ok=True)
    results = _run(config, _make_tray, list(range(config.trays)), workers, "trays")
    for index, (jpeg, anns, width, height) in enumerate(results):
        image_id = index + 1
        rel = f"trays/{image_id:06d}.jpg"
        (out / rel).write_bytes(jpeg)
        tray_images.append({"id": image_id, "file_name": rel, "width": width, "height": height,
                            "level": difficulty(len(anns))})
        for category_id, box, visible in anns:
            tray_anns.append(_coco_annotation(len(tray_anns) + 1, image_id, category_id, box, visible))
    _write_json(out / "annotations.json",
                {"info": {"description": "trayscan synthetic checkout trays", "version": GENERATOR_VERSION},
                 "images": tray_images, "annotations": tray_anns, "categories": categories})

    manifest = {
        "generator_version": GENERATOR_VERSION,
        "config": asdict(config),
        "counts": {"skus": len(products), "train_skus": sum(p.split == "train" for p in products),
                   "novel_skus": sum(p.split == "novel" for p in products),
                   "enrolment_photos": len(enrol_images), "trays": len(tray_images),
                   "tray_items": len(tray_anns)},
    }
    _write_json(out / "manifest.json", manifest)
    return manifest
