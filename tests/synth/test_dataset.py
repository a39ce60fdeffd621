"""The written dataset: determinism, valid COCO, catalog consistency, train/novel split."""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import cv2
import pytest

from tests.synth.conftest import SMALL
from trayscan.synth.dataset import difficulty, generate


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _load(root: Path) -> tuple[list[dict[str, str]], dict]:
    with (root / "catalog.csv").open(encoding="utf-8") as f:
        catalog = list(csv.DictReader(f))
    return catalog, json.loads((root / "annotations.json").read_text(encoding="utf-8"))


def test_same_seed_gives_identical_bytes_whatever_the_worker_count(small_world: Path, tmp_path: Path) -> None:
    generate(SMALL, tmp_path / "again", workers=1)
    first, second = _files(small_world), _files(tmp_path / "again")
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_tray_seed_changes_photos_but_not_products(small_world: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate(replace(SMALL, tray_seed=99, enrol_per_sku=0), other, workers=1)
    assert (other / "catalog.csv").read_bytes() == (small_world / "catalog.csv").read_bytes()
    assert (other / "trays/000001.jpg").read_bytes() != (small_world / "trays/000001.jpg").read_bytes()


def test_every_box_lies_inside_its_image_on_a_visible_item(small_world: Path) -> None:
    _, coco = _load(small_world)
    images = {im["id"]: im for im in coco["images"]}
    assert coco["annotations"], "trays have items"
    for ann in coco["annotations"]:
        im = images[ann["image_id"]]
        x, y, w, h = ann["bbox"]
        assert w >= 8 and h >= 8
        assert x >= 0 and y >= 0 and x + w <= im["width"] and y + h <= im["height"]
        assert ann["area"] == w * h and ann["iscrowd"] == 0
        assert ann["visible_fraction"] >= 0.69  # at most 30% hidden, with rounding of the half-res check


def test_images_match_their_records_and_levels(small_world: Path) -> None:
    _, coco = _load(small_world)
    counts = Counter(a["image_id"] for a in coco["annotations"])
    assert len({im["id"] for im in coco["images"]}) == len(coco["images"]) == SMALL.trays
    for im in coco["images"]:
        photo = cv2.imread(str(small_world / im["file_name"]))
        assert photo is not None and photo.shape[:2] == (im["height"], im["width"]) == (480, 640)
        n = counts[im["id"]]
        assert SMALL.min_items <= n <= SMALL.max_items
        assert im["level"] == difficulty(n)


def test_catalog_and_coco_categories_agree(small_world: Path) -> None:
    catalog, coco = _load(small_world)
    skus = [row["sku"] for row in catalog]
    assert len(set(skus)) == len(skus)
    assert [c["name"] for c in coco["categories"]] == skus
    assert [c["id"] for c in coco["categories"]] == list(range(1, len(skus) + 1))
    assert {c["supercategory"] for c in coco["categories"]} == {row["family"] for row in catalog}
    for row in catalog:
        price = Decimal(row["price"])
        assert price > 0 and price == price.quantize(Decimal("0.01")) and row["price"] == f"{price:.2f}"
        assert row["currency"] == "CNY" and row["split"] in ("train", "novel")
        assert row["shape"] in ("box", "can", "bottle", "bag")


def test_enrolment_photos_show_one_product_each(small_world: Path) -> None:
    catalog, _ = _load(small_world)
    enrol = json.loads((small_world / "enrol/annotations.json").read_text(encoding="utf-8"))
    assert len(enrol["images"]) == len(catalog) * SMALL.enrol_per_sku
    by_image = Counter(a["image_id"] for a in enrol["annotations"])
    assert set(by_image.values()) == {1}
    sku_of = {c["id"]: c["name"] for c in enrol["categories"]}
    for im, ann in zip(enrol["images"], enrol["annotations"], strict=True):
        assert im["file_name"].startswith(f"enrol/{im['sku']}/") and sku_of[ann["category_id"]] == im["sku"]
        assert (small_world / im["file_name"]).is_file()


def test_novel_skus_are_whole_families_and_never_on_train_trays(tmp_path: Path) -> None:
    out = tmp_path / "train-only"
    generate(replace(SMALL, trays=4, enrol_per_sku=0, tray_skus="train"), out, workers=1)
    catalog, coco = _load(out)
    split_of = {row["sku"]: row["split"] for row in catalog}
    families: dict[str, set[str]] = {}
    for row in catalog:
        families.setdefault(row["family"], set()).add(row["split"])
    assert all(len(splits) == 1 for splits in families.values())
    assert {"train", "novel"} <= set(split_of.values())
    sku_of = {c["id"]: c["name"] for c in coco["categories"]}
    assert {split_of[sku_of[a["category_id"]]] for a in coco["annotations"]} == {"train"}


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        replace(SMALL, tray_skus="everything")
    with pytest.raises(ValueError):
        replace(SMALL, min_items=5, max_items=2)
