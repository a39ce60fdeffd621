"""Augmentations that turn a stored crop into what a detector box on a checkout tray looks like.

A tray crop is: the item at any rotation (its axis-aligned box includes tray background in the corners), cut by
an imprecise box, sometimes partly covered by another item, under varying light, colour cast, blur, noise and
JPEG. No horizontal flip: packaging text is not mirror-symmetric, and a mirrored pack is a different look.
All randomness comes from the generator passed in, so a seed reproduces the stream.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    rotate_p: float = 0.9
    free_angle_p: float = 0.5  # share of rotations at any angle (else right angles only)
    box_jitter: float = 0.10  # each box side moves by up to this share of the box size
    occlude_p: float = 0.3
    occlude_max: float = 0.3  # largest share of the crop area hidden
    blur_p: float = 0.2
    lowres_p: float = 0.2
    noise_p: float = 0.15
    jpeg_p: float = 0.3
    light: float = 0.25  # brightness/contrast amplitude
    cast: float = 0.12  # per-channel gain amplitude
    gray_p: float = 0.02

    def at_strength(self, t: float) -> AugmentConfig:
        """Curriculum: a from-scratch network learns nothing under full-strength augmentation at first, so
        the probabilities and amplitudes start at a fraction `t` and reach the full values later."""
        t = min(1.0, max(0.0, t))
        return replace(self, free_angle_p=self.free_angle_p * t, box_jitter=self.box_jitter * t,
                       occlude_p=self.occlude_p * t, blur_p=self.blur_p * t, lowres_p=self.lowres_p * t,
                       noise_p=self.noise_p * t, jpeg_p=self.jpeg_p * t, light=self.light * t,
                       cast=self.cast * t, gray_p=self.gray_p * t)


def _rotate_with_box(img: np.ndarray, box: np.ndarray, angle: float, fill: tuple[int, ...] | None) -> tuple[np.ndarray, np.ndarray]:
    """Rotate the whole crop about the box centre on an expanded canvas; the new box is the rotated box's AABB."""
    h, w = img.shape[:2]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    m = cv2.getRotationMatrix2D((float(cx), float(cy)), angle, 1.0)
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    rc = corners @ m[:, :2].T + m[:, 2]
    x0, y0 = rc.min(axis=0)
    x1, y1 = rc.max(axis=0)
    m[:, 2] -= (x0, y0)
    # fill None: repeat the edge (the crop's own surroundings), else a flat colour (an unseen tray surface).
    border = cv2.BORDER_REPLICATE if fill is None else cv2.BORDER_CONSTANT
    out = cv2.warpAffine(img, m, (int(np.ceil(x1 - x0)), int(np.ceil(y1 - y0))), flags=cv2.INTER_LINEAR,
                         borderMode=border, borderValue=fill or 0)
    bc = np.array([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]], dtype=np.float32)
    rb = bc @ m[:, :2].T + m[:, 2]
    return out, np.array([*rb.min(axis=0), *rb.max(axis=0)], dtype=np.float32)


def _jittered_crop(img: np.ndarray, box: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    bw, bh = box[2] - box[0], box[3] - box[1]
    d = rng.uniform(-amount, amount, size=4) * np.array([bw, bh, bw, bh])
    x1, y1, x2, y2 = box + d
    h, w = img.shape[:2]
    x1, y1 = int(np.clip(x1, 0, w - 2)), int(np.clip(y1, 0, h - 2))
    x2, y2 = int(np.clip(np.ceil(x2), x1 + 2, w)), int(np.clip(np.ceil(y2), y1 + 2, h))
    return img[y1:y2, x1:x2]


def _occlude(img: np.ndarray, rng: np.random.Generator, max_share: float, patch: np.ndarray | None) -> np.ndarray:
    """Cover a rectangle from an edge inwards (items overlap from the side) with a patch of another item or noise."""
    h, w = img.shape[:2]
    share = rng.uniform(0.08, max_share)
    if rng.random() < 0.5:  # band from one side
        horizontal = rng.random() < 0.5
        ph, pw = (max(1, int(h * share)), w) if horizontal else (h, max(1, int(w * share)))
        y0 = 0 if (horizontal and rng.random() < 0.5) or not horizontal else h - ph
        x0 = 0 if (not horizontal and rng.random() < 0.5) or horizontal else w - pw
    else:  # corner or inner block
        side = np.sqrt(share)
        ph, pw = max(1, int(h * side * rng.uniform(0.7, 1.3))), max(1, int(w * side * rng.uniform(0.7, 1.3)))
        ph, pw = min(ph, h), min(pw, w)
        y0, x0 = int(rng.integers(0, h - ph + 1)), int(rng.integers(0, w - pw + 1))
    if patch is not None and rng.random() < 0.7:
        fill = cv2.resize(patch, (pw, ph), interpolation=cv2.INTER_LINEAR)
    elif rng.random() < 0.5:
        fill = rng.integers(0, 256, size=(ph, pw, 3), dtype=np.uint8)
    else:
        fill = np.empty((ph, pw, 3), dtype=np.uint8)
        fill[:] = rng.integers(0, 256, size=3, dtype=np.uint8)
    out = img.copy()
    out[y0:y0 + ph, x0:x0 + pw] = fill
    return out


def _photometric(img: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    x = img.astype(np.float32)
    contrast = 1.0 + rng.uniform(-cfg.light, cfg.light)
    brightness = rng.uniform(-cfg.light, cfg.light) * 80.0
    gains = 1.0 + rng.uniform(-cfg.cast, cfg.cast, size=3)  # colour cast of the shop light / white balance
    mean = x.mean()
    x = (x - mean) * contrast + mean + brightness
    x *= gains.astype(np.float32)
    if rng.random() < 0.3:  # saturation
        gray = x.mean(axis=2, keepdims=True)
        x = gray + (x - gray) * rng.uniform(0.5, 1.4)
    if rng.random() < 0.3:  # uneven light: a linear gradient across the crop
        h, w = x.shape[:2]
        gx, gy = rng.uniform(-0.35, 0.35, size=2)
        ramp = 1.0 + gx * np.linspace(-1, 1, w)[None, :] + gy * np.linspace(-1, 1, h)[:, None]
        x *= ramp[..., None].astype(np.float32)
    if rng.random() < cfg.gray_p:
        x[:] = x.mean(axis=2, keepdims=True)
    return np.clip(x, 0, 255).astype(np.uint8)


def _degrade(img: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape[:2]
    if rng.random() < cfg.lowres_p:  # small items on a high tray: few pixels, upscaled by the embedder
        s = rng.uniform(0.3, 0.8)
        small = cv2.resize(img, (max(2, int(w * s)), max(2, int(h * s))), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < cfg.blur_p:
        if rng.random() < 0.6:
            k = int(rng.choice([3, 5]))
            img = cv2.GaussianBlur(img, (k, k), 0)
        else:  # motion blur: the tray moved while the shutter was open
            k = int(rng.integers(3, 8))
            kernel = np.zeros((k, k), np.float32)
            kernel[k // 2, :] = 1.0 / k
            m = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
            kernel = cv2.warpAffine(kernel, m, (k, k))
            img = cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6))
    if rng.random() < cfg.noise_p:
        noise = rng.standard_normal(size=img.shape, dtype=np.float32) * np.float32(rng.uniform(3, 12))
        img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if rng.random() < cfg.jpeg_p:
        ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 90))])
        if ok:
            img = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    return img


def augment(img: np.ndarray, box: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig,
            patch: np.ndarray | None = None, size: int | None = None) -> np.ndarray:
    """A stored crop (with margin) and its item box -> one augmented BGR item crop.

    With `size`, the crop is squared to size x size right after cutting (as the embedder's preprocessing will
    do), so the pixel-level steps run on the small image: 4x less augmentation time on 2 cores.
    """
    if rng.random() < cfg.rotate_p:
        # Right angles keep the crop tight; free angles add background corners like a rotated item on a tray.
        angle = float(rng.choice([0, 90, 180, 270]))
        if rng.random() < cfg.free_angle_p:
            angle += rng.uniform(-180, 180)
        fill = tuple(int(v) for v in rng.integers(0, 256, size=3)) if rng.random() < 0.5 else None
        img, box = _rotate_with_box(img, box, angle, fill)
    img = _jittered_crop(img, box, cfg.box_jitter, rng)
    if size is not None:
        img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA if max(img.shape[:2]) > size else cv2.INTER_LINEAR)
    if rng.random() < cfg.occlude_p:
        img = _occlude(img, rng, cfg.occlude_max, patch)
    img = _photometric(img, cfg, rng)
    return _degrade(img, cfg, rng)
