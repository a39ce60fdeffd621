"""The mesh renderer: deterministic output, annotations measured on the rendered scene, a varied catalog with
non-products, and a holdout style that shares no surface, light or lens range with the training style."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from trayscan.evaluation.data import load_annotations
from trayscan.synth.cli import main as synth_main
from trayscan.synth.dataset import SynthConfig, generate
from trayscan.synth.mesh import catalog, scenes
from trayscan.synth.mesh.design import ean13_bits
from trayscan.synth.mesh.gl import renderer
from trayscan.synth.mesh.objects import pack_dims
from trayscan.synth.mesh.styles import HOLDOUT, STANDARD, STYLES
from trayscan.synth.renderers import NON_PRODUCT_CATEGORY, STYLES_BY_RENDERER
from trayscan.train.det_data import load_coco

MESH = SynthConfig(seed=3, families=4, trays=4, enrol_per_sku=3, width=640, height=480, renderer="mesh",
                   max_items=12)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def mesh_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mesh")
    generate(MESH, out, workers=2)
    return out


def test_same_arguments_give_identical_bytes_whatever_the_worker_count(mesh_world: Path, tmp_path: Path) -> None:
    generate(MESH, tmp_path / "again", workers=1)
    first, second = _files(mesh_world), _files(tmp_path / "again")
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_the_mesh_world_differs_from_the_sprite_world_of_the_same_seed(mesh_world: Path, tmp_path: Path) -> None:
    generate(replace(MESH, renderer="sprite", trays=0, enrol_per_sku=0), tmp_path / "sprite", workers=1)
    assert (tmp_path / "sprite" / "catalog.csv").read_text() != (mesh_world / "catalog.csv").read_text()


def test_boxes_lie_inside_the_photo_on_visible_items(mesh_world: Path) -> None:
    coco = json.loads((mesh_world / "annotations.json").read_text())
    images = {im["id"]: im for im in coco["images"]}
    assert len(coco["annotations"]) >= MESH.trays
    for ann in coco["annotations"]:
        im = images[ann["image_id"]]
        x, y, w, h = ann["bbox"]
        assert w >= 2 and h >= 2
        assert x >= 0 and y >= 0 and x + w <= im["width"] and y + h <= im["height"]
        assert scenes.MIN_VISIBLE <= ann["visible_fraction"] <= 1.0


def test_a_box_is_the_whole_silhouette_of_its_item() -> None:
    """The windowed id pass that makes the boxes agrees with a full-frame render of each item alone."""
    products = catalog.build_world(3, 8)
    rng = np.random.default_rng(5)
    camera, half_w, half_h = scenes._kiosk_camera(rng, STANDARD, 640, 480)
    tray = scenes._Tray(half_w * 0.86, half_h * 0.86)
    placed: list = []
    for product in products[:6]:
        p = scenes._place(scenes.product_object(product), tray, placed, rng)
        if p is not None:
            placed.append(p)
    draws = scenes._draws(placed, scenes.tray_plane(half_w, half_h), np.full((4, 4, 4), 255, np.uint8))
    boxes, visible = scenes._annotate(draws, camera, len(placed), 640, 480)
    assert len(placed) >= 3
    for k in range(1, len(placed) + 1):
        alone = renderer().object_ids(draws, camera, 640, 480, only=k) == k
        ys, xs = np.nonzero(alone)
        assert boxes[k - 1] == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        assert 0 < visible[k] <= 1.0


@pytest.mark.parametrize("style", [STANDARD, HOLDOUT])
def test_the_tray_fills_the_photo_under_the_strongest_lens_distortion(style) -> None:
    rng = np.random.default_rng(0)
    camera, half_w, half_h = scenes._kiosk_camera(rng, style, 320, 240)
    camera = replace(camera, k1=style.distortion_k1[0], k2=-0.02)
    draws = scenes._draws([], scenes.tray_plane(half_w, half_h), np.full((4, 4, 4), 255, np.uint8))
    draws[0].object_id = 1  # id pass: every pixel that shows the tray reads 1
    ids = renderer().object_ids(draws, camera, 320, 240)
    assert (ids == 1).all()


def test_trays_hold_non_products_annotated_as_not_for_sale() -> None:
    products = catalog.build_world(3, 8)
    kinds: Counter[str] = Counter()
    for seed in range(12):
        _, items = scenes.render_tray(products, np.random.default_rng(seed), 480, 360, 2, 6, "standard")
        kinds.update(it.kind for it in items if it.product is None)
    assert sum(kinds.values()) >= 1
    assert set(kinds) <= set(catalog.NON_PRODUCTS)


def test_non_products_are_left_out_of_checkout_and_detector_truth(tmp_path: Path) -> None:
    out = tmp_path / "w"
    generate(replace(MESH, trays=12, enrol_per_sku=0, width=480, height=360), out, workers=2)
    coco = json.loads((out / "annotations.json").read_text())
    other = [c for c in coco["categories"] if c["supercategory"] == NON_PRODUCT_CATEGORY]
    assert len(other) == 1 and other[0]["id"] == len(coco["categories"])
    n_other = sum(a["category_id"] == other[0]["id"] for a in coco["annotations"])
    assert n_other >= 1, "12 trays at a 30 % chance each hold some non-product"
    truth = load_annotations(out / "annotations.json")
    assert NON_PRODUCT_CATEGORY not in truth.skus
    assert sum(len(t.items) for t in truth.trays) == len(coco["annotations"]) - n_other
    assert sum(len(s.boxes) for s in load_coco(out)) == len(coco["annotations"]) - n_other


def test_enrolment_photos_come_from_a_phone_or_the_kiosk_one_to_k_per_product(mesh_world: Path) -> None:
    coco = json.loads((mesh_world / "enrol" / "annotations.json").read_text())
    per_sku = Counter(im["sku"] for im in coco["images"])
    assert set(per_sku.values()) <= set(range(1, MESH.enrol_per_sku + 1))
    assert len(set(per_sku.values())) > 1, "staff do not take the same number of photos of every product"
    sizes = {im["source"]: (im["width"], im["height"]) for im in coco["images"]}
    assert sizes.get("phone") == (640, 480)
    for ann, im in zip(coco["annotations"], coco["images"], strict=True):
        x, y, w, h = ann["bbox"]
        assert w > 0 and h > 0 and x + w <= im["width"] and y + h <= im["height"]


def test_kiosk_enrolment_is_the_product_alone_under_the_kiosk_camera() -> None:
    products = catalog.build_world(3, 8)
    sources = Counter()
    for seed in range(16):
        photo, box, source = scenes.render_enrolment(products[seed % len(products)], np.random.default_rng(seed))
        sources[source] += 1
        if source == "kiosk":
            assert photo.shape == (960, 1280, 3)
            assert box[2] > box[0] and box[3] > box[1]
    assert sources["kiosk"] >= 1 and sources["phone"] >= 1


def test_a_large_world_has_thousands_of_skus_of_every_shape_and_variant_kind() -> None:
    products = catalog.build_world(1, 1000)
    assert len(products) > 3000
    assert len({p.sku for p in products}) == len(products)
    assert {p.family.shape for p in products} == set(catalog.SHAPES)
    assert any(p.edition for p in products)
    novel = sum(p.split == "novel" for p in products) / len(products)
    assert 0.1 < novel < 0.3
    by_family: dict[str, list] = {}
    for p in products:
        by_family.setdefault(p.family.name, []).append(p)
    for variants in by_family.values():
        assert len({(p.flavour, p.size_text, p.edition) for p in variants}) == len(variants)
        assert len({p.family.brand for p in variants}) == 1


def test_bigger_pack_sizes_are_physically_bigger() -> None:
    products = catalog.build_world(1, 200)
    pairs = [(a, b) for a in products for b in products
             if a.family is b.family and a.flavour == b.flavour and a.size_scale > b.size_scale]
    assert pairs
    for big, small in pairs:
        assert pack_dims(big)[2] > pack_dims(small)[2]


def test_the_holdout_style_shares_no_surface_light_or_lens_range_with_training() -> None:
    assert set(STYLES) == set(STYLES_BY_RENDERER["mesh"])
    assert not set(HOLDOUT.surfaces) & set(STANDARD.surfaces)
    assert HOLDOUT.key_elevation_deg[1] <= STANDARD.key_elevation_deg[0]
    assert HOLDOUT.distortion_k1[1] <= STANDARD.distortion_k1[0]
    assert STANDARD.gel_prob == 0 < HOLDOUT.gel_prob


def test_styles_give_different_photos_of_the_same_tray_seed(tmp_path: Path) -> None:
    products = catalog.build_world(3, 8)
    a, _ = scenes.render_tray(products, np.random.default_rng(1), 320, 240, 3, 3, "standard")
    b, _ = scenes.render_tray(products, np.random.default_rng(1), 320, 240, 3, 3, "holdout")
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 10


def test_barcodes_are_valid_ean13() -> None:
    bits = ean13_bits("400638133393")  # check digit 1
    assert len(bits) == 95 and bits.startswith("101") and bits.endswith("101") and bits[45:50] == "01010"
    # The last right-hand digit encodes the check digit 1 as R-code 1100110.
    assert bits[85:92] == "1100110"


def test_cli_refuses_a_style_of_the_other_renderer(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert synth_main(["--renderer", "mesh", "--style", "shifted", "--out", str(tmp_path / "x")]) == 2
    assert "for the mesh renderer" in capsys.readouterr().err
