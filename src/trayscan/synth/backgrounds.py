"""Tray and enrolment backgrounds, drawn procedurally.

`standard` trays are what the starter models train on; `shifted` trays use surfaces the training never sees
(cloth, marble, checker mats), a held-out guard against fitting this generator's quirks.
"""

from __future__ import annotations

import cv2
import numpy as np

STANDARD_TRAYS = ("plastic_light", "plastic_blue", "wood", "dark_mat", "steel")
SHIFTED_TRAYS = ("cloth_check", "marble", "green_felt")


def _noise(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    """Smooth value noise in [-1, 1]: random grid upsampled."""
    small = rng.uniform(-1, 1, (max(2, h // cell), max(2, w // cell))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _tint(base: tuple[int, int, int], rng: np.random.Generator, amount: int = 20) -> np.ndarray:
    return np.clip(np.array(base, np.float32) + rng.uniform(-amount, amount, 3), 0, 255)


def tray_background(rng: np.random.Generator, h: int, w: int, style: str) -> np.ndarray:
    kinds = SHIFTED_TRAYS if style == "shifted" else STANDARD_TRAYS
    kind = kinds[int(rng.integers(len(kinds)))]
    img: np.ndarray
    if kind == "plastic_light":
        img = np.ones((h, w, 3), np.float32) * _tint((215, 215, 210), rng)
        img += _noise(rng, h, w, 64)[:, :, None] * 6
    elif kind == "plastic_blue":
        img = np.ones((h, w, 3), np.float32) * _tint((70, 110, 170), rng, 30)
        img += _noise(rng, h, w, 48)[:, :, None] * 8
    elif kind == "wood":
        base = _tint((160, 115, 70), rng, 25)
        yy = np.arange(h, dtype=np.float32)[:, None]
        warp = _noise(rng, h, w, 200) * 30
        grain = np.sin((yy + warp) / rng.uniform(3, 7)) * 0.5 + _noise(rng, h, w, 16) * 0.3
        img = base[None, None, :] * (1 + 0.12 * grain[:, :, None])
    elif kind == "dark_mat":
        img = np.ones((h, w, 3), np.float32) * _tint((45, 45, 50), rng, 12)
        step = int(rng.integers(10, 18))
        img[::step, ::step] += 25
        img = cv2.GaussianBlur(img, (3, 3), 0)
    elif kind == "steel":
        streaks = cv2.resize(rng.uniform(-1, 1, (h, 8)).astype(np.float32), (w, h),
                             interpolation=cv2.INTER_LINEAR)
        img = np.ones((h, w, 3), np.float32) * _tint((175, 178, 182), rng, 10)
        img += (streaks * 10 + rng.normal(0, 3, (h, w)).astype(np.float32))[:, :, None]
    elif kind == "cloth_check":
        c1, c2 = _tint((200, 40, 40), rng, 60), _tint((235, 235, 230), rng, 15)
        step = int(rng.integers(30, 70))
        yy, xx = np.mgrid[0:h, 0:w]
        mask = (((yy // step) + (xx // step)) % 2 == 0)[:, :, None]
        img = np.where(mask, c1, c2).astype(np.float32)
    elif kind == "marble":
        base = _tint((230, 228, 222), rng, 12)
        veins = np.abs(np.sin(_noise(rng, h, w, 90) * 8 + _noise(rng, h, w, 30)))
        img = base[None, None, :] * (0.85 + 0.15 * veins[:, :, None])
    else:  # green_felt
        img = np.ones((h, w, 3), np.float32) * _tint((40, 110, 60), rng, 20)
        img += rng.normal(0, 6, (h, w, 1)).astype(np.float32)
    if rng.random() < 0.6:
        img = _tray_rim(img, rng)
    return np.clip(img, 0, 255).astype(np.uint8)


def _tray_rim(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Darkens a border band: the raised edge of a tray seen from above."""
    h, w = img.shape[:2]
    border = int(rng.uniform(0.01, 0.04) * min(h, w))
    mask: np.ndarray = np.zeros((h, w), np.float32)
    cv2.rectangle(mask, (border, border), (w - border, h - border), 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), border / 2 + 1)
    return img * (0.7 + 0.3 * mask[:, :, None])


def plain_background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A clerk's enrolment backdrop: near-uniform paper or table with a soft gradient."""
    base = _tint(((235, 235, 232), (200, 200, 198), (225, 215, 195), (205, 220, 235))[int(rng.integers(4))], rng, 12)
    ramp = np.linspace(rng.uniform(0.85, 1.0), rng.uniform(1.0, 1.1), h, dtype=np.float32)[:, None, None]
    img = np.ones((h, w, 3), np.float32) * base * ramp
    img += _noise(rng, h, w, 80)[:, :, None] * 4
    return np.clip(img, 0, 255).astype(np.uint8)
