"""Draws one product as an RGBA sprite (its face as seen from above) at a canonical resolution.

The label (brand, art, flavour band, size) is drawn flat, then shaped: a box gets a visible side, a can lies on
its side with metal rims and cylinder shading, a bottle gets shoulders, neck and cap, a bag gets crimped ends.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
from PIL import Image, ImageDraw

from trayscan.synth.assets import FontType, font, load_art
from trayscan.synth.world import Product

PX_PER_CM = 22.0  # canonical sprite resolution; trays rescale sprites to their own scale

RGB = tuple[int, int, int]


@functools.lru_cache(maxsize=4096)
def product_sprite(product: Product) -> tuple[np.ndarray, np.ndarray]:
    """(rgb uint8 HxWx3, alpha float32 HxW in [0, 1]); long axis horizontal."""
    length_cm, width_cm = product.family.size_cm
    scale = product.size_scale * PX_PER_CM
    w, h = max(32, round(length_cm * scale)), max(24, round(width_cm * scale))
    shaper = {"box": _box, "can": _can, "bottle": _bottle, "bag": _bag}[product.family.shape]
    return shaper(product, w, h)


# ---------------------------------------------------------------- label

def _fit_font(draw: ImageDraw.ImageDraw, text: str, style: int, max_w: float, max_h: float) -> FontType:
    size = max(8, int(max_h))
    while size > 8:
        f = font(style, size)
        x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=f)
        if x1 - x0 <= max_w and y1 - y0 <= max_h:
            return f
        size = int(size * 0.9)
    return font(style, 8)


def _text(draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], text: str, fill: RGB,
          style: int, stroke: RGB | None = None) -> None:
    """Draws text as large as fits in box (x0, y0, x1, y1), centred."""
    x0, y0, x1, y1 = box
    f = _fit_font(draw, text, style, (x1 - x0) * 0.94, (y1 - y0) * 0.9)
    stroke_w = max(1, int(getattr(f, "size", 12) / 18)) if stroke else 0
    draw.text(((x0 + x1) / 2, (y0 + y1) / 2), text, font=f, fill=fill, anchor="mm",
              stroke_width=stroke_w, stroke_fill=stroke)


def _contrast(rgb: RGB) -> RGB:
    luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return (25, 25, 30) if luma > 140 else (250, 250, 245)


def _pattern(img: np.ndarray, product: Product, rng: np.random.Generator) -> None:
    fam = product.family
    h, w = img.shape[:2]
    accent = np.array(fam.accent_rgb, np.float32)
    base: np.ndarray = img.astype(np.float32)
    if fam.pattern == "gradient":
        ramp = np.linspace(1.1, 0.75, h, dtype=np.float32)[:, None, None]
        base = base * ramp
    elif fam.pattern == "stripes":
        yy, xx = np.mgrid[0:h, 0:w]
        period = max(8, h // 6)
        mask = ((xx + yy) // period) % 2 == 0
        base[mask] = base[mask] * 0.75 + accent * 0.25
    elif fam.pattern == "dots":
        layer = np.zeros((h, w), np.uint8)
        step = max(10, h // 5)
        for y in range(step // 2, h, step):
            for x in range((y // step % 2) * step // 2, w, step):
                cv2.circle(layer, (x, y), max(2, step // 5), 255, -1, cv2.LINE_AA)
        a = (layer.astype(np.float32) / 255 * 0.35)[:, :, None]
        base = base * (1 - a) + accent * a
    elif fam.pattern == "waves":
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        phase = float(rng.uniform(0, 6.28))
        wave = np.sin(xx / max(6.0, w / 7) + phase) * h * 0.08 + h * 0.7
        a = (yy > wave).astype(np.float32)[:, :, None] * 0.45
        base = base * (1 - a) + accent * a
    img[:] = np.clip(base, 0, 255).astype(np.uint8)


def draw_label(product: Product, w: int, h: int) -> np.ndarray:
    """The flat printed label, RGB uint8 h x w."""
    fam = product.family
    rng = np.random.default_rng([fam.art_key, 3])
    img = np.empty((h, w, 3), np.uint8)
    img[:] = fam.base_rgb
    _pattern(img, product, rng)
    band = product.flavour_rgb
    band_text = _contrast(band)

    # Flavour band: where the variants of a family differ (colour and word), as on real packaging.
    if fam.layout in ("band_right", "band_left"):
        bw = int(w * 0.3)
        bx0 = w - bw if fam.layout == "band_right" else 0
        img[:, bx0:bx0 + bw] = band
        band_box = (bx0, 0, bx0 + bw, h)
        free = (0 if fam.layout == "band_right" else bw, 0, w - bw if fam.layout == "band_right" else w, h)
    elif fam.layout == "band_bottom":
        bh = int(h * 0.3)
        img[h - bh:] = band
        band_box = (0, h - bh, w, h)
        free = (0, 0, w, h - bh)
    else:  # band_diagonal: a sash across the lower right corner
        poly = np.array([[w * 0.55, h], [w, h * 0.25], [w, h * 0.62], [w * 0.8, h]], np.int32)
        cv2.fillPoly(img, [poly], band, cv2.LINE_AA)
        band_box = (int(w * 0.72), int(h * 0.55), w, h)
        free = (0, 0, int(w * 0.78), h)

    pil = Image.fromarray(img)
    draw = ImageDraw.Draw(pil)
    fx0, fy0, fx1, fy1 = free
    fw, fh = fx1 - fx0, fy1 - fy0

    # Art on the left part of the free area, brand text beside/above it.
    art_size = int(min(fh * 0.62, fw * 0.42))
    if art_size >= 12:
        art = load_art(fam.art_key, art_size)
        ah, aw = art.shape[:2]
        ax, ay = fx0 + int(fw * 0.04), fy0 + (fh - ah) // 2 + int(fh * 0.1)
        ay = min(ay, fy1 - ah)
        art_img = Image.fromarray(art, "RGBA")
        pil.paste(art_img, (ax, ay), art_img)
        text_x0 = ax + aw + int(fw * 0.03)
    else:
        text_x0 = fx0
    style = fam.index
    stroke = _contrast(fam.text_rgb)
    _text(draw, (text_x0, fy0 + fh * 0.08, fx1 - fw * 0.03, fy0 + fh * 0.55), fam.brand, fam.text_rgb, style, stroke)
    # Second line: the brand's other-script subtitle (bilingual packaging), smaller.
    subtitle = product.flavour_cjk if fam.script == "latin" else product.flavour
    _text(draw, (text_x0, fy0 + fh * 0.56, fx1 - fw * 0.05, fy0 + fh * 0.74), subtitle, fam.text_rgb, style + 1)

    # Flavour word on the band, both scripts.
    bx0, by0, bx1, by1 = band_box
    bh_ = by1 - by0
    _text(draw, (bx0, by0 + bh_ * 0.08, bx1, by0 + bh_ * 0.5), product.flavour, band_text, style + 1)
    _text(draw, (bx0, by0 + bh_ * 0.5, bx1, by0 + bh_ * 0.88), product.flavour_cjk, band_text, style)
    # Pack size, bottom left of the free area.
    _text(draw, (fx0 + fw * 0.03, fy1 - fh * 0.2, fx0 + fw * 0.35, fy1 - fh * 0.03), product.size_text,
          fam.text_rgb, style + 2, stroke)
    return np.asarray(pil).copy()


# ---------------------------------------------------------------- shapes

def _shade(rgb: np.ndarray, profile: np.ndarray, axis: int) -> np.ndarray:
    shape = [1, 1, 1]
    shape[axis] = -1
    return np.clip(rgb.astype(np.float32) * profile.reshape(shape), 0, 255).astype(np.uint8)


def _cylinder_profile(n: int, strength: float = 0.45) -> np.ndarray:
    """Brightness across a cylinder seen from above: darker towards both edges, a highlight off-centre."""
    t = np.linspace(-1, 1, n, dtype=np.float32)
    light = 1 - strength * t**2
    highlight = 0.35 * np.exp(-((t + 0.35) / 0.12) ** 2)
    return light + highlight


def _box(product: Product, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    depth = max(4, int(min(w, h) * 0.12))  # visible side: the camera is not exactly overhead
    label = draw_label(product, w, h)
    rgb = np.zeros((h + depth, w + depth, 3), np.uint8)
    side = (np.array(product.family.base_rgb, np.float32) * 0.55).astype(np.uint8)
    rgb[:] = side  # the sides show down-right of the top face
    rgb[:h, :w] = label
    alpha = np.zeros(rgb.shape[:2], np.float32)
    cv2.fillPoly(alpha, [np.array([[0, 0], [w, 0], [w + depth, depth], [w + depth, h + depth],
                                   [depth, h + depth], [0, h]], np.int32)], 1.0, cv2.LINE_AA)
    rgb[:h, :w] = _edge_darken(rgb[:h, :w])
    return rgb, alpha


def _edge_darken(rgb: np.ndarray) -> np.ndarray:
    out = rgb.copy()
    out[:2] = out[:2] // 2
    out[-2:] = out[-2:] // 2
    out[:, :2] = out[:, :2] // 2
    out[:, -2:] = out[:, -2:] // 2
    return out


def _can(product: Product, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    rim = max(3, int(w * 0.06))
    label = draw_label(product, w - 2 * rim, h)
    rgb = np.zeros((h, w, 3), np.uint8)
    metal = np.linspace(150, 225, rim, dtype=np.float32)
    rgb[:, :rim] = metal[None, :, None]
    rgb[:, w - rim:] = metal[::-1][None, :, None]
    rgb[:, rim:w - rim] = label
    rgb = _shade(rgb, _cylinder_profile(h), axis=0)
    alpha = np.zeros((h, w), np.float32)
    cv2.rectangle(alpha, (0, 1), (w - 1, h - 2), 1.0, -1)
    return rgb, _round_corners(alpha, max(2, h // 10))


def _bottle(product: Product, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    body_end = int(w * 0.72)  # body from 0 to here, then shoulder, neck, cap
    label_x0, label_x1 = int(w * 0.12), int(w * 0.62)
    label = draw_label(product, label_x1 - label_x0, int(h * 0.9))
    liquid = (np.array(product.family.base_rgb, np.float32) * 0.6 + 60).clip(0, 255)
    rgb = np.empty((h, w, 3), np.uint8)
    rgb[:] = liquid.astype(np.uint8)
    cap_x0 = int(w * 0.9)
    rgb[:, cap_x0:] = product.family.accent_rgb
    ly0 = (h - label.shape[0]) // 2
    rgb[ly0:ly0 + label.shape[0], label_x0:label_x1] = label
    rgb = _shade(rgb, _cylinder_profile(h, 0.5), axis=0)
    # Silhouette: radius along the length.
    xs = np.arange(w, dtype=np.float32)
    radius = np.full(w, h / 2, np.float32)
    shoulder = (xs > body_end) & (xs <= w * 0.84)
    radius[shoulder] = h / 2 - (xs[shoulder] - body_end) / (w * 0.84 - body_end) * h * 0.28
    radius[xs > w * 0.84] = h * 0.2
    radius[xs > cap_x0] = h * 0.23
    yy = np.abs(np.arange(h, dtype=np.float32)[:, None] - (h - 1) / 2)
    alpha = np.clip(radius[None, :] - yy + 0.5, 0, 1).astype(np.float32)
    alpha[:, :2] *= 0.0
    return rgb, _round_corners(alpha, max(2, h // 8))


def _bag(product: Product, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    crimp = max(4, int(w * 0.07))
    label = draw_label(product, w - 2 * crimp, h)
    rgb = np.empty((h, w, 3), np.uint8)
    rgb[:] = (np.array(product.family.base_rgb, np.float32) * 0.85).astype(np.uint8)
    rgb[:, crimp:w - crimp] = label
    # Crimp lines across the sealed ends.
    for x in list(range(1, crimp, 3)) + list(range(w - crimp, w - 1, 3)):
        rgb[:, x] = (rgb[:, x].astype(np.float32) * 0.7).astype(np.uint8)
    # Pillow shading: darker towards every edge, a diagonal glossy highlight.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ny, nx = (yy / (h - 1)) * 2 - 1, (xx / (w - 1)) * 2 - 1
    shade = 1 - 0.35 * ny**2 - 0.15 * nx**4
    gloss = 0.25 * np.exp(-(((nx * 0.6 + ny) - 0.1) / 0.15) ** 2)
    rgb = np.clip(rgb.astype(np.float32) * shade[:, :, None] + 255 * gloss[:, :, None], 0, 255).astype(np.uint8)
    # Outline: ends zig-zag, long sides bulge slightly.
    alpha = np.zeros((h, w), np.float32)
    teeth = max(3, h // 10)
    top = [(x, int(2 + 2 * np.sin(np.pi * x / w) * -1 + h * 0.02)) for x in range(0, w, max(1, w // 20))]
    bottom = [(x, h - 1 - int(h * 0.02)) for x in range(w - 1, -1, -max(1, w // 20))]
    left = [(int((i % 2) * teeth * 0.6), int(h - 1 - i * h / 10)) for i in range(11)]
    right = [(w - 1 - int((i % 2) * teeth * 0.6), int(i * h / 10)) for i in range(11)]
    poly = np.array(top + right + bottom + left, np.int32)
    cv2.fillPoly(alpha, [poly], 1.0, cv2.LINE_AA)
    return rgb, alpha


def _round_corners(alpha: np.ndarray, radius: int) -> np.ndarray:
    h, w = alpha.shape
    mask = np.zeros_like(alpha)
    cv2.rectangle(mask, (radius, 0), (w - 1 - radius, h - 1), 1.0, -1)
    cv2.rectangle(mask, (0, radius), (w - 1, h - 1 - radius), 1.0, -1)
    for cx, cy in ((radius, radius), (w - 1 - radius, radius), (radius, h - 1 - radius),
                   (w - 1 - radius, h - 1 - radius)):
        cv2.circle(mask, (cx, cy), radius, 1.0, -1, cv2.LINE_AA)
    return np.minimum(alpha, mask)
