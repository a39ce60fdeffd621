"""Tray and enrolment backgrounds, drawn procedurally.

`standard` trays are what the starter models were first trained on; `varied` trays add surfaces of other kinds
(stripes, dots, tiles, coloured stone, weave, any plain colour) so that a detector learns that a patterned surface
is not an item; `shifted` trays use surfaces that neither shows (checker cloth, marble, green felt), a held-out
guard against fitting this generator's quirks.
"""

from __future__ import annotations

import cv2
import numpy as np

from trayscan.synth.world import random_colour

STANDARD_TRAYS = ("plastic_light", "plastic_blue", "wood", "dark_mat", "steel")
VARIED_TRAYS = ("stripes", "dots", "tiles", "stone", "weave", "any_colour")
SHIFTED_TRAYS = ("cloth_check", "marble", "green_felt")
TRAYS_OF_STYLE = {"standard": STANDARD_TRAYS, "varied": STANDARD_TRAYS + VARIED_TRAYS, "shifted": SHIFTED_TRAYS}


def _noise(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    """Smooth value noise in [-1, 1]: random grid upsampled."""
    small = rng.uniform(-1, 1, (max(2, h // cell), max(2, w // cell))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _tint(base: tuple[int, int, int], rng: np.random.Generator, amount: int = 20) -> np.ndarray:
    return np.clip(np.array(base, np.float32) + rng.uniform(-amount, amount, 3), 0, 255)


def tray_background(rng: np.random.Generator, h: int, w: int, style: str) -> np.ndarray:
    kinds = TRAYS_OF_STYLE[style]
    kind = kinds[int(rng.integers(len(kinds)))]
    img: np.ndarray
    if kind in VARIED_TRAYS:
        img = _varied_surface(kind, rng, h, w)
    elif kind == "plastic_light":
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


def _varied_surface(kind: str, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """The `varied` style's extra surfaces, each in random colours (float32 BGR, unclipped)."""
    c1, c2 = random_colour(rng), random_colour(rng)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "stripes":  # a striped mat at any angle, hard or soft edges
        angle, period = rng.uniform(0, np.pi), rng.uniform(10, 60)
        phase = (xx * np.cos(angle) + yy * np.sin(angle)) / period
        wave = np.sin(2 * np.pi * phase)
        mix = (wave > 0).astype(np.float32) if rng.random() < 0.5 else (wave + 1) / 2
    elif kind == "dots":  # polka dots on a plain ground
        step, radius = rng.uniform(16, 60), rng.uniform(0.15, 0.35)
        dx, dy = (xx % step) / step - 0.5, (yy % step) / step - 0.5
        mix = (np.hypot(dx, dy) < radius).astype(np.float32)
    elif kind == "tiles":  # tiles of slightly varied tint with grout lines
        step = int(rng.integers(40, 160))
        tint = rng.uniform(-12, 12, (h // step + 1, w // step + 1)).astype(np.float32)
        img = np.array(c1, np.float32) + tint[(yy // step).astype(int), (xx // step).astype(int)][:, :, None]
        grout = ((yy % step) < 3) | ((xx % step) < 3)
        img[grout] = np.array(c2, np.float32) * 0.5 + 90
        return img
    elif kind == "stone":  # multi-scale mottling, like terrazzo or granite
        mix = (0.5 + 0.35 * _noise(rng, h, w, int(rng.integers(20, 80))) + 0.25 * _noise(rng, h, w, 4)).clip(0, 1)
    elif kind == "weave":  # a fine cross-hatched weave
        period = rng.uniform(4, 12)
        mix = (np.sin(2 * np.pi * xx / period) * np.sin(2 * np.pi * yy / period) + 1) / 2
    else:  # any_colour: a plain surface of any hue under an uneven light
        mix = np.zeros((h, w), np.float32)
    img = np.array(c1, np.float32) * (1 - mix[:, :, None]) + np.array(c2, np.float32) * mix[:, :, None]
    return img * (1 + 0.15 * _noise(rng, h, w, 300)[:, :, None]) + rng.normal(0, 3, (h, w, 1)).astype(np.float32)


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
