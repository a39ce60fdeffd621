"""Builders of test images: products are two-colour designs on a white background."""

from __future__ import annotations

import dataclasses
import io

import cv2
import numpy as np
from PIL import Image

Colour = tuple[int, int, int]  # BGR
Design = tuple[Colour, Colour]  # top half, bottom half
Box = tuple[float, float, float, float]

RED: Colour = (40, 40, 220)
GREEN: Colour = (40, 200, 40)
BLUE: Colour = (220, 60, 40)
YELLOW: Colour = (40, 220, 230)
PURPLE: Colour = (160, 40, 140)
ORANGE: Colour = (30, 140, 250)


def canvas(width: int = 320, height: int = 240) -> np.ndarray:
    return np.full((height, width, 3), 255, np.uint8)


def paint(image: np.ndarray, design: Design, box: Box) -> None:
    x1, y1, x2, y2 = (int(v) for v in box)
    middle = (y1 + y2) // 2
    image[y1:middle, x1:x2] = design[0]
    image[middle:y2, x1:x2] = design[1]


def product_photo(
    design: Design, box: Box = (100, 60, 220, 180), size: tuple[int, int] = (320, 240)
) -> np.ndarray:
    image = canvas(*size)
    paint(image, design, box)
    return image


def tray(items: list[tuple[Design, Box]], size: tuple[int, int] = (640, 480)) -> np.ndarray:
    image = canvas(*size)
    for design, box in items:
        paint(image, design, box)
    return image


def encode(image_bgr: np.ndarray, fmt: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image_bgr[:, :, ::-1])).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def sibling_labels() -> dict[str, np.ndarray]:
    """Printed labels (BGR) of three pack sizes of one design from the synthetic world (seed 1, 60 families):
    they differ only in the small "70g" / "100g" / "150g" print."""
    from trayscan.synth.packaging import draw_label
    from trayscan.synth.world import build_world

    wanted = {"TS0068", "TS0069", "TS0070"}  # Solpalbe Mint 70g, 100g, 150g
    products = [p for p in build_world(seed=1, n_families=60) if p.sku in wanted]
    assert len(products) == 3, "the synthetic world changed: pick another family of pack sizes"
    # One band colour for all three (the world jitters it per SKU): only the print tells them apart.
    products = [dataclasses.replace(p, flavour_rgb=products[0].flavour_rgb) for p in products]
    return {p.sku: np.ascontiguousarray(draw_label(p, 300, 200)[:, :, ::-1]) for p in products}


def turned_photo(label: np.ndarray, angle: float, scale: float, gain: float) -> np.ndarray:
    """A crop as the detector would cut it: the label turned by `angle` degrees and scaled, on white, its box
    padded by 5 % a side, lit `gain` times as bright."""
    height, width = label.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), angle, scale)
    cos, sin = abs(turn[0, 0]), abs(turn[0, 1])
    out_w, out_h = int((width * cos + height * sin) * 1.1), int((width * sin + height * cos) * 1.1)
    turn[:, 2] += (out_w / 2 - width / 2, out_h / 2 - height / 2)
    photo = cv2.warpAffine(label, turn, (out_w, out_h), flags=cv2.INTER_AREA, borderValue=(255, 255, 255))
    return np.clip(photo.astype(np.float32) * gain, 0, 255).astype(np.uint8)
