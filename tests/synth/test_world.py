"""Product world and rendering: families of near-identical variants, packaging sprites, preview, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.synth.conftest import SMALL
from trayscan.cli import main as trayscan_main
from trayscan.synth.compose import alpha_bbox, pose_sprite
from trayscan.synth.packaging import product_sprite
from trayscan.synth.world import build_world


def test_world_is_a_function_of_its_seed() -> None:
    assert build_world(3, 10) == build_world(3, 10)
    assert build_world(3, 10) != build_world(4, 10)


def test_variants_share_brand_and_shape_and_differ_in_flavour_or_size() -> None:
    products = build_world(1, 30)
    by_family: dict[str, list] = {}
    for p in products:
        by_family.setdefault(p.family.name, []).append(p)
    assert all(len(v) >= 1 for v in by_family.values())
    assert sum(len(v) >= 2 for v in by_family.values()) >= 25
    for variants in by_family.values():
        assert len({(p.family.brand, p.family.shape) for p in variants}) == 1
        assert len({(p.flavour, p.size_text) for p in variants}) == len(variants)
    assert {p.family.shape for p in products} == {"box", "can", "bottle", "bag"}
    assert {p.family.script for p in products} == {"latin", "cjk"}


def test_sprites_are_opaque_products_with_distinct_variant_designs() -> None:
    products = build_world(1, 8)
    a, b = products[0], products[1]
    assert a.family == b.family
    rgb_a, alpha_a = product_sprite(a)
    rgb_b, _ = product_sprite(b)
    assert rgb_a.dtype == np.uint8 and alpha_a.shape == rgb_a.shape[:2]
    assert alpha_a.mean() > 0.6  # mostly product, not empty canvas
    if rgb_a.shape == rgb_b.shape:
        assert np.abs(rgb_a.astype(int) - rgb_b.astype(int)).mean() > 3  # flavour band/text differ


def test_posed_sprite_keeps_its_whole_silhouette() -> None:
    rgb, alpha = product_sprite(build_world(1, 4)[0])
    posed = pose_sprite(rgb, alpha, 0.5, 37.0, np.random.default_rng(0))
    box = alpha_bbox(posed.alpha)
    assert box is not None
    x1, y1, x2, y2 = box
    w, h = posed.size
    assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
    assert abs(posed.alpha.sum() - alpha.sum() * 0.25) / (alpha.sum() * 0.25) < 0.1  # area scales with s^2


def test_cli_writes_dataset_and_preview(tmp_path: Path) -> None:
    out, preview = tmp_path / "d", tmp_path / "sheet.png"
    code = trayscan_main(["synth", "--out", str(out), "--seed", str(SMALL.seed), "--families", "4", "--trays",
                          "2", "--enrol-per-sku", "1", "--workers", "1", "--preview", str(preview)])
    assert code == 0
    assert (out / "annotations.json").is_file() and (out / "catalog.csv").is_file()
    assert preview.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_rejects_missing_output_and_unknown_command(capsys) -> None:
    assert trayscan_main(["synth"]) == 2
    assert "--out" in capsys.readouterr().err
    assert trayscan_main(["nonsense"]) == 2
