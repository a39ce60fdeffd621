"""What the kiosk camera does to a scene: uneven light, colour cast, blur, sensor noise, JPEG."""

from __future__ import annotations

import cv2
import numpy as np


def lighting_gradient(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A multiplicative light field: a linear ramp in a random direction, sometimes with vignetting."""
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = ((xx / w - 0.5) * np.cos(angle) + (yy / h - 0.5) * np.sin(angle)) + 0.5
    low, high = rng.uniform(0.72, 0.95), rng.uniform(1.0, 1.15)
    field = low + (high - low) * t
    if rng.random() < 0.4:
        r2 = ((xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2) * 2
        field *= 1 - rng.uniform(0.1, 0.3) * r2
    return field.astype(np.float32)


def apply_camera(image: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """float32 HxWx3 scene in 0..255 -> uint8 photo. strength < 1 gives a gentler camera (enrolment shots)."""
    h, w = image.shape[:2]
    img: np.ndarray = image * lighting_gradient(rng, h, w)[:, :, None] ** strength
    gains = 1 + rng.uniform(-0.12, 0.12, 3).astype(np.float32) * strength  # colour cast
    img *= gains * rng.uniform(0.85, 1.12)
    if rng.random() < 0.15 * strength:
        length = int(rng.integers(3, 10))
        kernel: np.ndarray = np.zeros((length, length), np.float32)
        kernel[length // 2] = 1 / length
        rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1)
        kernel = cv2.warpAffine(kernel, rot, (length, length))
        img = cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6))
    elif rng.random() < 0.6:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.4) * strength + 0.01)
    sigma = rng.uniform(1, 6) * strength
    noise = rng.standard_normal((h, w, 1), dtype=np.float32) * sigma
    img += noise
    return np.clip(img, 0, 255).astype(np.uint8)


def encode_jpeg(rgb: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()
