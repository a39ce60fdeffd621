"""Puts product sprites into a photo: pose (scale, any rotation, slight perspective), drop shadow, alpha blend."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class PosedSprite:
    rgb: np.ndarray  # float32 HxWx3
    alpha: np.ndarray  # float32 HxW in [0, 1]

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.alpha.shape
        return w, h


def pose_sprite(rgb: np.ndarray, alpha: np.ndarray, scale: float, angle_deg: float,
                rng: np.random.Generator, perspective: float = 0.03) -> PosedSprite:
    """Scales and rotates a sprite by any angle, with a little perspective, into a tight canvas."""
    h, w = alpha.shape
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    jitter = rng.uniform(-perspective, perspective, (4, 2)).astype(np.float32) * np.array([w, h], np.float32)
    theta = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]], np.float32)
    centred = (corners + jitter - np.array([w / 2, h / 2], np.float32)) * scale
    dst = centred @ rot.T
    dst -= dst.min(axis=0)
    out_w, out_h = (int(np.ceil(v)) + 2 for v in dst.max(axis=0))
    dst += 1  # one pixel of margin so anti-aliased edges are not cut
    matrix = cv2.getPerspectiveTransform(corners, dst.astype(np.float32))
    interp = cv2.INTER_AREA if scale < 0.8 else cv2.INTER_LINEAR
    warped_rgb = cv2.warpPerspective(rgb.astype(np.float32), matrix, (out_w, out_h), flags=interp,
                                     borderMode=cv2.BORDER_REPLICATE)
    warped_alpha = cv2.warpPerspective(alpha, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR,
                                       borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return PosedSprite(warped_rgb, warped_alpha)


def alpha_bbox(alpha: np.ndarray, threshold: float = 0.5) -> tuple[int, int, int, int] | None:
    """Tight (x1, y1, x2, y2) of the opaque part, x2/y2 exclusive."""
    ys, xs = np.nonzero(alpha > threshold)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def cast_shadow(canvas: np.ndarray, sprite: PosedSprite, x: int, y: int, offset: tuple[int, int],
                softness: float, strength: float) -> None:
    """Darkens the canvas under a blurred, offset copy of the sprite's silhouette (in place)."""
    pad = int(3 * softness) + max(abs(offset[0]), abs(offset[1])) + 1
    w, h = sprite.size
    shadow: np.ndarray = np.zeros((h + 2 * pad, w + 2 * pad), np.float32)
    shadow[pad + offset[1]: pad + offset[1] + h, pad + offset[0]: pad + offset[0] + w] = sprite.alpha
    shadow = cv2.GaussianBlur(shadow, (0, 0), softness)
    _blend_region(canvas, x - pad, y - pad, shadow * strength, None)


def paste(canvas: np.ndarray, sprite: PosedSprite, x: int, y: int) -> None:
    """Alpha-blends the sprite onto the canvas with its top-left at (x, y) (in place)."""
    _blend_region(canvas, x, y, sprite.alpha, sprite.rgb)


def _blend_region(canvas: np.ndarray, x: int, y: int, alpha: np.ndarray, rgb: np.ndarray | None) -> None:
    """rgb None means darkening by alpha (a shadow); clips to the canvas."""
    ch, cw = canvas.shape[:2]
    h, w = alpha.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(cw, x + w), min(ch, y + h)
    if x0 >= x1 or y0 >= y1:
        return
    a = alpha[y0 - y: y1 - y, x0 - x: x1 - x, None]
    region = canvas[y0:y1, x0:x1]
    if rgb is None:
        region *= 1 - a
    else:
        region *= 1 - a
        region += rgb[y0 - y: y1 - y, x0 - x: x1 - x] * a
