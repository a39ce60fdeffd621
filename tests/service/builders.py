"""Builders of test images: products are two-colour designs on a white background."""

from __future__ import annotations

import io

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
