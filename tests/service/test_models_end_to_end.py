"""The real app end to end: starter models, real Faiss, real SQLite, synthetic trays, over HTTP.

Skipped until the starter models are installed (settings `models.detector_dir` / `models.embedder_dir`).
Set TRAYSCAN_E2E_WORLD to a folder written by `trayscan synth` to reuse it instead of generating one.
"""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from trayscan.api import create_app
from trayscan.config import Settings
from trayscan.synth.cli import main as synth_main

from ..starter_models import starter_model_settings
from .builders import encode
from .conftest import ADMIN, ADMIN_TOKEN

pytestmark = pytest.mark.slow

# The world the starter models were trained on (`data/train`), with tray photos they never saw.
SEED, FAMILIES, TRAYS, HELD_OUT_TRAY_SEED = 1, 60, 50, 4242
# The shipped models miss the targets (see their MODEL_CARD.md). Exact receipts of these 50 trays (`trayscan eval`,
# in-process), by the commit of the models and pipeline: b625047 0 (mCIoU 42.2 %), d8bc1eb 2 (54.1 %), 6b4318b 8
# (58.2 %), 9d7025f 11 (67.1 %), 0e5bce9 14 (70.3 %), 09a08ea 13 (77.4 %, ACD 2.46 against 3.22), 3f3d03b 15
# (77.9 %, ACD 2.38), 92dedc9 16 (cAcc 32 %, ACD 2.28, mCIoU 79.7 %, detection recall 89.5 %, recognition 88.8 %),
# e9eeede 14 (ACD 2.54, mCIoU 78.4 %), d6f36e0 23 (the pretrained PicoDet-LCNet x1.0: ACD 1.42, mCIoU 85.8 %,
# detection recall 95.4 %, recognition 90.8 %), 2026-12-06 embedder (family batches on both renderers) 25 (ACD 1.36,
# mCIoU 86.8 %, detection recall 95.0 %, recognition 91.7 %).
# These tests keep running so a better model shows up as XPASS; they are not skipped.
BELOW_TARGET = pytest.mark.xfail(
    reason="starter models below target (novel recall@1 0.941 after the checks; 21 of 50 exact receipts)",
    strict=False,
)


def model_settings(tmp_path: Path) -> Settings:
    models = starter_model_settings()
    if not (models.detector_dir.is_dir() and models.embedder_dir.is_dir()):
        pytest.skip(f"starter models not installed in {models.detector_dir} / {models.embedder_dir}")
    return Settings(
        admin_token=ADMIN_TOKEN,
        data_dir=tmp_path / "var",
        gallery={"dir": tmp_path / "gallery"},
        demo={"enabled": False},
        models=models,
    )


def synth(out: Path, *args: str) -> Path:
    if not (out / "manifest.json").exists():
        argv = ["--out", str(out), "--seed", str(SEED), "--families", str(FAMILIES), *args]
        assert synth_main(argv) == 0
    return out


def truth(world: Path) -> list[tuple[Path, Counter[str]]]:
    coco = json.loads((world / "annotations.json").read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    counts: dict[int, Counter[str]] = {image["id"]: Counter() for image in coco["images"]}
    for annotation in coco["annotations"]:
        counts[annotation["image_id"]][names[annotation["category_id"]]] += 1
    return [(world / image["file_name"], counts[image["id"]]) for image in coco["images"]]


def catalog_rows(world: Path) -> list[dict[str, str]]:
    with (world / "catalog.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def enrol_sku(client: TestClient, world: Path, row: dict[str, str]) -> dict[str, Any]:
    created = client.post(
        "/v1/admin/products",
        json={"sku": row["sku"], "name": row["name"], "price": row["price"]},
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    photos = sorted((world / "enrol" / row["sku"]).glob("*.jpg"))[:20]
    files = [("images", (p.name, p.read_bytes(), "image/jpeg")) for p in photos]
    response = client.post(f"/v1/admin/products/{row['sku']}/images", files=files, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


def checkout(client: TestClient, data: bytes) -> Counter[str]:
    response = client.post("/v1/checkout", files={"image": ("tray.jpg", data, "image/jpeg")})
    assert response.status_code == 200, response.text
    return Counter({item["sku"]: item["quantity"] for item in response.json()["items"]})


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return model_settings(tmp_path_factory.mktemp("service"))  # skips before any data is generated


@pytest.fixture(scope="module")
def world(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("TRAYSCAN_E2E_WORLD")
    if given:
        return Path(given)
    return synth(
        tmp_path_factory.mktemp("world"),
        *("--trays", str(TRAYS), "--tray-skus", "train", "--tray-seed", str(HELD_OUT_TRAY_SEED)),
        *("--enrol-per-sku", "3"),
    )


@pytest.fixture(scope="module")
def client(settings: Settings, world: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        assert test_client.get("/readyz").status_code == 200, test_client.get("/readyz").text
        for row in catalog_rows(world):
            if row["split"] == "train":
                enrol_sku(test_client, world, row)
        yield test_client


@BELOW_TARGET
def test_receipts_of_train_trays_match_the_ground_truth(client: TestClient, world: Path) -> None:
    trays = truth(world)[:TRAYS]
    wrong = [path.name for path, expected in trays if checkout(client, path.read_bytes()) != expected]
    assert len(trays) - len(wrong) >= 47, f"wrong receipts: {wrong}"


@pytest.fixture(scope="module")
def novel_trays(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Trays of novel SKUs only: products no model trained on and the gallery does not hold yet."""
    return synth(
        tmp_path_factory.mktemp("novel"),
        *("--trays", "3", "--tray-skus", "novel", "--enrol-per-sku", "0", "--tray-seed", "7"),
        *("--max-items", "6"),
    )


def test_novel_sku_is_recognised_after_enrolment_and_not_after_delete(
    client: TestClient, world: Path, novel_trays: Path
) -> None:
    path, expected = truth(novel_trays)[0]
    sku, quantity = expected.most_common(1)[0]
    assert sku not in checkout(client, path.read_bytes())

    row = next(r for r in catalog_rows(world) if r["sku"] == sku)
    enrol_sku(client, world, row)
    try:
        assert sku in checkout(client, path.read_bytes())  # recognised on the very next checkout
    finally:
        assert client.delete(f"/v1/admin/products/{sku}", headers=ADMIN).status_code == 200
    assert sku not in checkout(client, path.read_bytes())


@BELOW_TARGET
def test_novel_sku_is_counted_exactly_after_enrolment(client: TestClient, world: Path, novel_trays: Path) -> None:
    path, expected = truth(novel_trays)[0]
    sku, quantity = expected.most_common(1)[0]
    enrol_sku(client, world, next(r for r in catalog_rows(world) if r["sku"] == sku))
    try:
        assert checkout(client, path.read_bytes())[sku] == quantity
    finally:
        client.delete(f"/v1/admin/products/{sku}", headers=ADMIN)


@BELOW_TARGET
def test_two_touching_identical_items_count_as_two(client: TestClient, world: Path) -> None:
    coco = json.loads((world / "enrol" / "annotations.json").read_text())
    train = {r["sku"] for r in catalog_rows(world) if r["split"] == "train"}
    names = {c["id"]: c["name"] for c in coco["categories"]}
    annotation = next(a for a in coco["annotations"] if names[a["category_id"]] in train)
    image = next(i for i in coco["images"] if i["id"] == annotation["image_id"])
    from trayscan.pipeline.decode import ImageLimits, decode_image

    photo = decode_image((world / image["file_name"]).read_bytes(), ImageLimits(10**8, 10**8))
    x, y, w, h = (int(v) for v in annotation["bbox"])
    item = photo[y : y + h, x : x + w]
    tray = np.full((max(h + 200, 480), max(2 * w + 200, 640), 3), 200, np.uint8)
    tray[100 : 100 + h, 100 : 100 + w] = item
    tray[100 : 100 + h, 100 + w : 100 + 2 * w] = item  # touching the first copy
    sku = names[annotation["category_id"]]
    assert checkout(client, encode(tray, "JPEG", quality=92)) == Counter({sku: 2})
