"""Ground truth from `trayscan synth` output and from an RPC-shaped test json."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from trayscan.evaluation.data import AnnotationError, level_of, load_annotations, parse_annotations
from trayscan.synth.dataset import SynthConfig, generate

RPC_SHAPED = {
    "images": [
        {"file_name": "20180824-13-35-48-4.jpg", "width": 1840, "height": 1840, "id": 1, "level": "hard"},
        {"file_name": "20180824-13-36-12-9.jpg", "width": 1840, "height": 1840, "id": 2, "level": "easy"},
    ],
    "annotations": [
        {"area": 100, "bbox": [10, 20, 30, 40], "category_id": 1, "id": 1, "image_id": 1, "iscrowd": 0},
        {"area": 100, "bbox": [50, 20, 30, 40], "category_id": 1, "id": 2, "image_id": 1, "iscrowd": 0},
        {"area": 100, "bbox": [90, 20, 30, 40], "category_id": 200, "id": 3, "image_id": 2, "iscrowd": 0},
    ],
    "categories": [
        {"supercategory": "puffed_food", "id": 1, "name": "1_puffed_food"},
        {"supercategory": "alcohol", "id": 200, "name": "200_alcohol"},
    ],
}


@pytest.fixture(scope="module")
def tiny_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate(SynthConfig(seed=3, families=2, trays=3, enrol_per_sku=1, width=320, height=240), out, workers=1)
    return out


def test_reads_trayscan_synth_output(tiny_synth: Path) -> None:
    coco = json.loads((tiny_synth / "annotations.json").read_text())
    trays = load_annotations(tiny_synth / "annotations.json")
    with (tiny_synth / "catalog.csv").open() as handle:
        catalog_skus = [row["sku"] for row in csv.DictReader(handle)]
    assert trays.skus == catalog_skus  # category names are the catalog's SKUs
    with (tiny_synth / "catalog.csv").open() as handle:
        assert trays.families == {row["sku"]: row["family"] for row in csv.DictReader(handle)}
    assert len(trays.trays) == 3
    assert sum(len(t.items) for t in trays.trays) == len(coco["annotations"])
    first = coco["annotations"][0]
    x, y, w, h = first["bbox"]
    tray = next(t for t in trays.trays if t.image_id == first["image_id"])
    assert (x, y, x + w, y + h) in [item.box for item in tray.items]
    for t in trays.trays:
        assert t.level == level_of(len(t.items))
        assert (tiny_synth / t.file_name).is_file()


def test_reads_rpc_shaped_json_and_maps_categories_by_name(tmp_path: Path) -> None:
    path = tmp_path / "instances_test2019.json"
    path.write_text(json.dumps(RPC_SHAPED))
    trays = load_annotations(path)
    assert trays.skus == ["1_puffed_food", "200_alcohol"]
    assert trays.families == {"1_puffed_food": "puffed_food", "200_alcohol": "alcohol"}
    first, second = trays.trays
    assert first.level == "hard"  # the file's level, whatever the item count
    assert first.counts == {"1_puffed_food": 2}
    assert first.items[0].box == (10.0, 20.0, 40.0, 60.0)
    assert second.counts == {"200_alcohol": 1}


def test_level_follows_rpc_counts_when_the_file_has_none() -> None:
    assert [level_of(n) for n in (1, 7, 8, 12, 13, 20)] == [
        "easy",
        "easy",
        "medium",
        "medium",
        "hard",
        "hard",
    ]
    data = json.loads(json.dumps(RPC_SHAPED))
    for image in data["images"]:
        del image["level"]
    assert [t.level for t in parse_annotations(data).trays] == ["easy", "easy"]


def test_bad_annotations_are_refused(tmp_path: Path) -> None:
    data = json.loads(json.dumps(RPC_SHAPED))
    data["annotations"][0]["category_id"] = 7
    with pytest.raises(AnnotationError, match="unknown category_id 7"):
        parse_annotations(data)
    with pytest.raises(AnnotationError, match="need images"):
        parse_annotations({"images": []})
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(AnnotationError, match="not JSON"):
        load_annotations(tmp_path / "bad.json")
