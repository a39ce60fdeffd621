"""A contact sheet of sample trays and enrolment photos, to judge the generator by eye."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from trayscan.synth import renderers
from trayscan.synth.dataset import ENROL_STREAM, TRAY_STREAM, SynthConfig, tray_products

TILE_W = 480


def _tile(rgb: np.ndarray, width: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)


def contact_sheet(config: SynthConfig, n_trays: int = 6, n_enrol: int = 8, boxes_on: int = 2) -> np.ndarray:
    """RGB sheet: rows of trays (the first `boxes_on` with ground-truth boxes, non-products in green), then rows
    of enrolment shots."""
    renderer = renderers.get(config.renderer)
    products = renderer.build_world(config.seed, config.families)
    pool = tray_products(products, config.tray_skus)
    tiles = []
    for index in range(n_trays):
        rng = np.random.default_rng([config.effective_tray_seed, TRAY_STREAM, index])
        photo, items = renderer.render_tray(pool, rng, config.width, config.height, config.min_items,
                                            config.max_items, config.style)
        if index < boxes_on:
            for item in items:
                colour = (255, 40, 40) if item.product is not None else (40, 220, 40)  # green: not a product
                cv2.rectangle(photo, item.box[:2], item.box[2:], colour, 3)
        tiles.append(_tile(photo, TILE_W))
    rows = [np.hstack(tiles[i:i + 3]) for i in range(0, len(tiles) - len(tiles) % 3, 3)]
    step = max(1, len(products) // n_enrol)
    shots = []
    for k in range(n_enrol):
        rng = np.random.default_rng([config.seed, ENROL_STREAM, k * step, 0])
        photo, _, _ = renderer.render_enrolment(products[k * step], rng)
        shots.append(_tile(photo, TILE_W * 3 // 4))
    enrol_rows = [np.hstack(shots[i:i + 4]) for i in range(0, len(shots) - len(shots) % 4, 4)]
    width = max(r.shape[1] for r in rows + enrol_rows)
    padded = [np.pad(r, ((0, 6), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows + enrol_rows]
    return np.vstack(padded)


def write_preview(config: SynthConfig, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet = contact_sheet(config)
    if not cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        raise OSError(f"cannot write {path}")
