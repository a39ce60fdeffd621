"""Crop stage: each box widened by a padding share per side (the embedder was trained on loose crops)."""

from __future__ import annotations

import numpy as np


def crop_with_padding(
    image_bgr: np.ndarray, box: tuple[float, float, float, float], padding: float
) -> np.ndarray:
    height, width = image_bgr.shape[:2]
    x1, y1, x2, y2 = box
    pad_x = (x2 - x1) * padding
    pad_y = (y2 - y1) * padding
    left = max(int(np.floor(x1 - pad_x)), 0)
    top = max(int(np.floor(y1 - pad_y)), 0)
    right = min(int(np.ceil(x2 + pad_x)), width)
    bottom = min(int(np.ceil(y2 + pad_y)), height)
    if right <= left or bottom <= top:
        raise ValueError(f"box {box} is outside the {width}x{height} image")
    return np.ascontiguousarray(image_bgr[top:bottom, left:right])
