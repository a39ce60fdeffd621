"""The two kinds of photo: a checkout tray with 1-20 items, and an enrolment shot of one product."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trayscan.synth.backgrounds import plain_background, tray_background
from trayscan.synth.camera import apply_camera
from trayscan.synth.compose import PosedSprite, alpha_bbox, cast_shadow, paste, pose_sprite
from trayscan.synth.packaging import product_sprite
from trayscan.synth.world import Product

MAX_OCCLUDED = 0.30  # an item may be covered by others up to this share of its area
REPEAT_PROB = 0.35  # chance that the next item is another unit of an SKU already on the tray
TOUCH_PROB = 0.5  # chance that such a repeat is placed touching its twin (the counting hard case)
PLACEMENT_TRIES = 60
CHECK_STRIDE = 2  # overlap bookkeeping at half resolution: fast and precise enough


@dataclass(frozen=True)
class Item:
    product: Product
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 (exclusive), whole item
    visible_fraction: float


@dataclass
class _Placement:
    sprite: PosedSprite
    x: int
    y: int
    angle: float
    product: Product


def render_tray(products: list[Product], rng: np.random.Generator, width: int, height: int,
                min_items: int, max_items: int, style: str) -> tuple[np.ndarray, list[Item]]:
    """A tray photo (RGB uint8) and its items, every box on a visible item."""
    n_items = int(rng.integers(min_items, max_items + 1))
    chosen = _choose_products(products, n_items, rng)
    scale = _tray_scale(chosen, width, height, rng)

    owner = np.full((height // CHECK_STRIDE + 1, width // CHECK_STRIDE + 1), -1, np.int32)
    areas: list[int] = []
    placements: list[_Placement] = []
    for product in chosen:
        placement = _place(product, scale * rng.uniform(0.92, 1.08), placements, owner, areas, width, height, rng)
        if placement is not None:
            placements.append(placement)

    canvas = tray_background(rng, height, width, style).astype(np.float32)
    light_dir = rng.uniform(-1, 1, 2)
    for p in placements:
        offset_len = rng.uniform(3, 12) * scale
        offset = (int(light_dir[0] * offset_len), int(light_dir[1] * offset_len))
        cast_shadow(canvas, p.sprite, p.x, p.y, offset, softness=rng.uniform(3, 10) * scale,
                    strength=rng.uniform(0.25, 0.5))
        paste(canvas, p.sprite, p.x, p.y)
    photo = apply_camera(canvas, rng)

    visible = np.bincount(owner[owner >= 0].ravel(), minlength=len(placements))
    items = []
    for index, p in enumerate(placements):
        bbox = alpha_bbox(p.sprite.alpha)
        assert bbox is not None  # placements only exist for non-empty sprites
        x1, y1, x2, y2 = bbox
        items.append(Item(p.product, (p.x + x1, p.y + y1, p.x + x2, p.y + y2),
                          round(float(visible[index]) / max(areas[index], 1), 4)))
    return photo, items


def _choose_products(products: list[Product], n_items: int, rng: np.random.Generator) -> list[Product]:
    chosen: list[Product] = []
    for _ in range(n_items):
        if chosen and rng.random() < REPEAT_PROB:
            chosen.append(chosen[int(rng.integers(len(chosen)))])
        else:
            chosen.append(products[int(rng.integers(len(products)))])
    return chosen


def _tray_scale(chosen: list[Product], width: int, height: int, rng: np.random.Generator) -> float:
    """Sprite scale so that the items cover a plausible share of the tray (crowded trays, smaller items)."""
    canonical_area = sum(float(np.prod(product_sprite(p)[1].shape)) for p in chosen)
    fill = rng.uniform(0.12, 0.42)
    return float(np.clip(np.sqrt(fill * width * height / canonical_area), 0.35, 1.3))


def _place(product: Product, scale: float, placed: list[_Placement], owner: np.ndarray, areas: list[int],
           width: int, height: int, rng: np.random.Generator) -> _Placement | None:
    """Finds a pose and position that keep every item at least 70% visible; updates owner/areas."""
    rgb, alpha = product_sprite(product)
    twins = [p for p in placed if p.product.sku == product.sku]
    touching = bool(twins) and rng.random() < TOUCH_PROB
    angle = twins[-1].angle + rng.uniform(-3, 3) if touching else rng.uniform(0, 360)
    sprite = pose_sprite(rgb, alpha, scale, angle, rng)
    w, h = sprite.size
    if w >= width - 8 or h >= height - 8:
        return None
    mask = sprite.alpha[::CHECK_STRIDE, ::CHECK_STRIDE] > 0.5
    area = int(mask.sum())
    if area == 0:
        return None
    for attempt in range(PLACEMENT_TRIES):
        if touching and attempt < PLACEMENT_TRIES // 3:
            x, y = _beside(twins[-1], sprite, product, scale, rng)
        else:
            x, y = int(rng.integers(4, width - w - 4)), int(rng.integers(4, height - h - 4))
        if not (4 <= x <= width - w - 4 and 4 <= y <= height - h - 4):
            continue
        sx, sy = x // CHECK_STRIDE, y // CHECK_STRIDE
        region = owner[sy: sy + mask.shape[0], sx: sx + mask.shape[1]]
        m = mask[: region.shape[0], : region.shape[1]]
        covered = region[m]
        covered = covered[covered >= 0]
        # The new item lies on top: it hides parts of the items below it.
        hidden_now = np.bincount(covered, minlength=len(areas)) if len(covered) else np.zeros(len(areas), int)
        visible_before = np.bincount(owner[owner >= 0].ravel(), minlength=len(areas)) if areas else hidden_now
        if any(visible_before[i] - hidden_now[i] < (1 - MAX_OCCLUDED) * areas[i] for i in range(len(areas))):
            continue
        region[m] = len(areas)
        areas.append(area)
        return _Placement(sprite, x, y, angle, product)
    return None


def _beside(twin: _Placement, sprite: PosedSprite, product: Product, scale: float,
            rng: np.random.Generator) -> tuple[int, int]:
    """Top-left that puts the sprite flush against its twin, across its short side (cans in a row)."""
    _, alpha = product_sprite(product)
    across = alpha.shape[0] * scale + rng.uniform(-2, 3)  # short side length in pixels, touching
    theta = np.deg2rad(twin.angle + 90 + (180 if rng.random() < 0.5 else 0))
    tw, th = twin.sprite.size
    cx, cy = twin.x + tw / 2 + np.cos(theta) * across, twin.y + th / 2 + np.sin(theta) * across
    w, h = sprite.size
    return int(cx - w / 2), int(cy - h / 2)


def render_enrolment(product: Product, rng: np.random.Generator, width: int = 640,
                     height: int = 480) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A clerk's photo of one product on a plain background, and its box (x1, y1, x2, y2)."""
    rgb, alpha = product_sprite(product)
    angle = rng.uniform(0, 360)
    fill = rng.uniform(0.45, 0.85)
    unit = pose_sprite(rgb, alpha, 1.0, angle, rng, perspective=0.02)
    scale = fill * min(width / unit.size[0], height / unit.size[1])
    sprite = pose_sprite(rgb, alpha, scale, angle, rng, perspective=0.04)
    w, h = sprite.size
    x = int(rng.integers(2, max(3, width - w - 2)))
    y = int(rng.integers(2, max(3, height - h - 2)))
    canvas = plain_background(rng, height, width).astype(np.float32)
    cast_shadow(canvas, sprite, x, y, (int(rng.integers(-8, 9)), int(rng.integers(2, 12))),
                softness=rng.uniform(6, 14), strength=rng.uniform(0.15, 0.35))
    paste(canvas, sprite, x, y)
    photo = apply_camera(canvas, rng, strength=0.5)
    bbox = alpha_bbox(sprite.alpha)
    assert bbox is not None
    x1, y1, x2, y2 = bbox
    return photo, (max(0, x + x1), max(0, y + y1), min(width, x + x2), min(height, y + y2))
