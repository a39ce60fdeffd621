"""The mesh renderer's camera after the lens: white balance, exposure, vignetting, defocus or motion blur,
chromatic aberration and sensor noise (shot and read noise). Lens distortion happens in the geometry (gl.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Sensor:
    """How strongly each effect may act; `holdout` styles push them further than training ever does."""

    white_balance: float = 0.12  # max relative channel gain error
    vignette: tuple[float, float] = (0.0, 0.3)
    defocus: tuple[float, float] = (0.4, 1.6)  # Gaussian sigma in px
    motion_prob: float = 0.12
    aberration: float = 0.0015  # max relative scale between colour channels
    read_noise: tuple[float, float] = (0.5, 4.0)
    shot_noise: tuple[float, float] = (0.02, 0.25)


def develop(scene: np.ndarray, rng: np.random.Generator, sensor: Sensor) -> np.ndarray:
    """float32 HxWx3 (0..255) from the renderer -> uint8 photo."""
    h, w = scene.shape[:2]
    img: np.ndarray = scene.astype(np.float32)
    gains = 1 + rng.uniform(-sensor.white_balance, sensor.white_balance, 3).astype(np.float32)
    img *= gains * np.float32(rng.uniform(0.85, 1.15))
    lo, hi = sensor.vignette
    strength = rng.uniform(lo, hi)
    if strength > 0:
        yy, xx = np.ogrid[0:h, 0:w]
        r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
        img *= (1 - strength * r2 / 2).astype(np.float32)[..., None]
    if sensor.aberration > 0:
        s = 1 + rng.uniform(-sensor.aberration, sensor.aberration)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), 0, s)
        img[..., 0] = cv2.warpAffine(img[..., 0], m, (w, h), borderMode=cv2.BORDER_REFLECT)
    if rng.random() < sensor.motion_prob:
        length = int(rng.integers(3, 13))
        line = np.zeros((length, length), np.float32)
        line[length // 2] = 1
        rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), rng.uniform(0, 180), 1)
        kernel: np.ndarray = cv2.warpAffine(line, rot, (length, length))
        img = cv2.filter2D(img, -1, kernel / max(float(kernel.sum()), 1e-6))
    else:
        sigma = rng.uniform(*sensor.defocus)
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    shot = rng.uniform(*sensor.shot_noise)
    read = rng.uniform(*sensor.read_noise)
    noise = rng.standard_normal(img.shape, dtype=np.float32)
    img = img + noise * np.sqrt(np.maximum(img, 0) * shot + read * read)
    return np.clip(img, 0, 255).astype(np.uint8)
