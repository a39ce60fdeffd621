"""System assets used to draw packaging: fonts (Debian fonts-noto-cjk) and clip art (Debian openclipart-png).

Both are optional: without them the generator falls back to Pillow's built-in font and procedural art, so the
package and its tests work anywhere; the system packages only make products look more real.
"""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np
from PIL import ImageFont

FONT_CANDIDATES = [
    # (path, face index): index 2 of the Noto CJK collections is Simplified Chinese.
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc", 2),
]
CLIPART_ROOT = Path("/usr/share/openclipart/png")
# Categories that look like packaging illustrations; black-and-white variants are skipped.
CLIPART_CATEGORIES = ("food", "plants", "animals", "decorations", "shapes", "recreation")

FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.lru_cache(maxsize=1)
def available_fonts() -> tuple[tuple[str, int], ...]:
    return tuple((path, idx) for path, idx in FONT_CANDIDATES if Path(path).exists())


@functools.lru_cache(maxsize=256)
def font(style: int, size: int) -> FontType:
    """A font of the given pixel size; `style` picks among the installed faces."""
    fonts = available_fonts()
    if not fonts:
        return ImageFont.load_default(size=size)
    path, index = fonts[style % len(fonts)]
    return ImageFont.truetype(path, size=size, index=index)


def has_cjk_font() -> bool:
    return bool(available_fonts())


@functools.lru_cache(maxsize=1)
def clipart_files() -> tuple[Path, ...]:
    if not CLIPART_ROOT.is_dir():
        return ()
    files = []
    for category in CLIPART_CATEGORIES:
        files += [p for p in (CLIPART_ROOT / category).rglob("*.png") if "_bw" not in p.name]
    return tuple(sorted(files))


@functools.lru_cache(maxsize=512)
def load_art(key: int, size: int) -> np.ndarray:
    """RGBA art fitted in a size x size square, chosen by key: clip art when installed, else procedural."""
    files = clipart_files()
    rng = np.random.default_rng([key, 7])
    for attempt in range(5):
        if not files:
            break
        path = files[(key + attempt * 7919) % len(files)]
        img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if img is None or img.ndim != 3 or img.shape[2] != 4 or min(img.shape[:2]) < 24:
            continue
        rgba = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
        return _fit_square(_trim(rgba), size)
    return procedural_art(rng, size)


def _trim(rgba: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(rgba[:, :, 3] > 10)
    if len(xs) == 0:
        return rgba
    return rgba[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]


def _fit_square(rgba: np.ndarray, size: int) -> np.ndarray:
    h, w = rgba.shape[:2]
    scale = size / max(h, w)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgba, new, interpolation=cv2.INTER_AREA)


def procedural_art(rng: np.random.Generator, size: int) -> np.ndarray:
    """A fruit-, sun- or star-like emblem drawn with OpenCV: clip-art stand-in when none is installed."""
    art = np.zeros((size, size, 4), np.uint8)
    c = size // 2
    colours = [tuple(int(v) for v in rng.integers(30, 256, 3)) + (255,) for _ in range(3)]
    kind = int(rng.integers(3))
    if kind == 0:  # fruit: body, highlight, leaf
        cv2.circle(art, (c, c + size // 12), int(size * 0.38), colours[0], -1, cv2.LINE_AA)
        cv2.circle(art, (c - size // 7, c - size // 20), int(size * 0.09), (255, 255, 255, 255), -1, cv2.LINE_AA)
        cv2.ellipse(art, (c + size // 8, c - size // 3), (size // 6, size // 14), -30, 0, 360, colours[1], -1,
                    cv2.LINE_AA)
    elif kind == 1:  # sun: rays around a disc
        for k in range(12):
            angle = 2 * np.pi * k / 12
            end = (int(c + np.cos(angle) * size * 0.46), int(c + np.sin(angle) * size * 0.46))
            cv2.line(art, (c, c), end, colours[1], max(2, size // 20), cv2.LINE_AA)
        cv2.circle(art, (c, c), int(size * 0.28), colours[0], -1, cv2.LINE_AA)
    else:  # star
        points = []
        for k in range(10):
            radius = size * (0.47 if k % 2 == 0 else 0.2)
            angle = np.pi * k / 5 - np.pi / 2
            points.append((c + np.cos(angle) * radius, c + np.sin(angle) * radius))
        cv2.fillPoly(art, [np.array(points, np.int32)], colours[2], cv2.LINE_AA)
    return art
