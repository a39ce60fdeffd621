"""Packaging art for the mesh renderer: its own layouts, fonts, illustrations, photos and barcodes.

A family's design (layout, background, fonts, illustration, palette) comes from its `art_key`; a variant
changes only what a real variant changes: the flavour word and its colour band, the pack size, an edition
badge. Textures are RGBA; alpha < 255 marks see-through plastic (bottle and jar bodies outside the label).
Assets come from Debian packages (fonts-*, mate-backgrounds, colobot-common-textures); without them the
generator falls back to Pillow's font and procedural art.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from trayscan.synth.world import Product

LATIN_FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation2",
                   "/usr/share/fonts/truetype/freefont", "/usr/share/fonts/truetype/open-sans",
                   "/usr/share/fonts/opentype/cantarell", "/usr/share/fonts/opentype/comic-neue",
                   "/usr/share/fonts/opentype/lobster", "/usr/share/fonts/opentype/dancingscript",
                   "/usr/share/fonts/opentype/ebgaramond", "/usr/share/fonts/opentype/urw-base35"]
CJK_FONTS = ["/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/truetype/arphic/ukai.ttc"]
PHOTO_DIRS = ["/usr/share/backgrounds/mate/nature", "/usr/share/backgrounds/mate/abstract"]
LAYOUTS = ("hero", "split", "band", "frame", "diagonal", "minimal")
BACKGROUNDS = ("solid", "gradient", "radial", "photo", "stripes", "halftone", "checks")
ILLUSTRATIONS = ("fruit", "photo", "burst", "rings", "blobs", "none")
TEX_LONG = 512  # long side of a face texture in pixels

FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont
RGB = tuple[int, int, int]


@functools.lru_cache(maxsize=1)
def latin_fonts() -> tuple[str, ...]:
    found = [str(p) for d in LATIN_FONT_DIRS if Path(d).is_dir()
             for p in sorted(Path(d).iterdir()) if p.suffix in (".ttf", ".otf")]
    return tuple(found)


@functools.lru_cache(maxsize=1)
def cjk_fonts() -> tuple[str, ...]:
    return tuple(p for p in CJK_FONTS if Path(p).exists())


@functools.lru_cache(maxsize=512)
def _font(path: str, size: int) -> FontType:
    if not path:
        return ImageFont.load_default(size=size)
    try:
        return ImageFont.truetype(path, size)
    except OSError:
        return ImageFont.load_default(size=size)


def pick_font(rng: np.random.Generator, script: str) -> str:
    fonts = cjk_fonts() if script == "cjk" else latin_fonts()
    return str(fonts[int(rng.integers(len(fonts)))]) if fonts else ""


@functools.lru_cache(maxsize=1)
def photo_files() -> tuple[str, ...]:
    return tuple(str(p) for d in PHOTO_DIRS if Path(d).is_dir() for p in sorted(Path(d).iterdir())
                 if p.suffix.lower() == ".jpg")  # the PNG wallpapers are mostly transparent


@functools.lru_cache(maxsize=32)
def _photo(path: str) -> Image.Image:
    raw = Image.open(path)
    raw.draft("RGB", (1024, 1024))  # JPEG: decode at a reduced scale, much faster for the large photos
    img = raw.convert("RGB")
    img.thumbnail((1024, 1024))
    return img


def photo_crop(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """A random crop of a photograph, or procedural noise art when no photos are installed."""
    files = photo_files()
    w, h = size
    if not files:
        noise = rng.integers(0, 256, (max(2, h // 16), max(2, w // 16), 3), dtype=np.uint8)
        return Image.fromarray(noise).resize((w, h), Image.Resampling.BICUBIC)
    img = _photo(files[int(rng.integers(len(files)))])
    scale = rng.uniform(0.25, 0.9)
    cw, ch = max(8, int(img.width * scale)), max(8, int(img.width * scale * h / max(w, 1)))
    ch = min(ch, img.height)
    x = int(rng.integers(0, max(1, img.width - cw)))
    y = int(rng.integers(0, max(1, img.height - ch)))
    return img.crop((x, y, x + cw, y + ch)).resize((w, h), Image.Resampling.BILINEAR)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(int(a[i] * (1 - t) + b[i] * t) for i in range(3))  # type: ignore[return-value]


def _contrast(rgb: RGB) -> RGB:
    return (15, 15, 20) if 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 135 else (250, 248, 240)


# ---------------------------------------------------------------- pieces

def background(rng: np.random.Generator, kind: str, size: tuple[int, int], a: RGB, b: RGB) -> Image.Image:
    if kind == "photo":
        img = photo_crop(rng, size)
        return Image.blend(img, Image.new("RGB", size, a), float(rng.uniform(0.0, 0.5)))
    if kind == "solid":
        return Image.new("RGB", size, a)
    # Patterns are computed at half size and enlarged: a quarter of the cost, and soft edges like print.
    w, h = max(2, size[0] // 2), max(2, size[1] // 2)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "gradient":
        ang = rng.uniform(0, np.pi)
        t = ((xx / w) * np.cos(ang) + (yy / h) * np.sin(ang))
        t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
    elif kind == "radial":
        cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        t = np.clip(np.hypot(xx - cx, yy - cy) / (0.8 * max(w, h)), 0, 1)
    elif kind == "stripes":
        period = rng.uniform(0.04, 0.2) * max(w, h)
        ang = rng.uniform(0, np.pi)
        t = (np.sin((xx * np.cos(ang) + yy * np.sin(ang)) / period * 2 * np.pi) > rng.uniform(-0.5, 0.5))
        t = t.astype(np.float32) * rng.uniform(0.3, 1.0)
    elif kind == "halftone":
        cell = rng.uniform(5, 15)
        fx, fy = (xx % cell) / cell - 0.5, (yy % cell) / cell - 0.5
        radius = 0.15 + 0.3 * (yy / h)
        t = (np.hypot(fx, fy) < radius).astype(np.float32) * 0.7
    elif kind == "checks":
        cell = rng.uniform(0.05, 0.15) * max(w, h)
        t = (((xx // cell) + (yy // cell)) % 2).astype(np.float32) * rng.uniform(0.2, 0.6)
    else:
        t = np.zeros((h, w), np.float32)
    arr = np.asarray(a, np.float32) * (1 - t[..., None]) + np.asarray(b, np.float32) * t[..., None]
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8)).resize(size, Image.Resampling.BILINEAR)


def illustration(rng: np.random.Generator, kind: str, size: int, colour: RGB) -> Image.Image:
    """An RGBA picture for the pack's front; `colour` is the variant's flavour colour."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    s = size
    if kind == "fruit":
        for _ in range(int(rng.integers(1, 4))):
            r = rng.uniform(0.18, 0.32) * s
            cx, cy = rng.uniform(r, s - r), rng.uniform(r, s - r)
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(*colour, 255), outline=(*_mix(colour, (0, 0, 0), 0.4), 255),
                      width=max(1, s // 60))
            d.ellipse([cx - r * 0.5, cy - r * 0.7, cx - r * 0.1, cy - r * 0.3], fill=(255, 255, 255, 150))
            d.polygon([(cx, cy - r), (cx + r * 0.6, cy - r * 1.3), (cx + r * 0.2, cy - r * 0.9)],
                      fill=(60, 150, 50, 255))
    elif kind == "photo":
        pic = photo_crop(rng, (s, s)).convert("RGBA")
        mask = Image.new("L", (s, s), 0)
        ImageDraw.Draw(mask).ellipse([s * 0.05, s * 0.05, s * 0.95, s * 0.95], fill=255)
        img.paste(pic, (0, 0), mask)
    elif kind == "burst":
        n = int(rng.integers(10, 20))
        ang = np.linspace(0, 2 * np.pi, 2 * n, endpoint=False)
        rad = np.where(np.arange(2 * n) % 2 == 0, 0.48, 0.34) * s
        d.polygon([(s / 2 + r * np.cos(a), s / 2 + r * np.sin(a)) for a, r in zip(ang, rad, strict=True)],
                  fill=(*colour, 255))
    elif kind == "rings":
        for k in range(int(rng.integers(2, 5)), 0, -1):
            r = s * 0.48 * k / 4
            c = colour if k % 2 else _mix(colour, (255, 255, 255), 0.6)
            d.ellipse([s / 2 - r, s / 2 - r, s / 2 + r, s / 2 + r], fill=(*c, 255))
    elif kind == "blobs":
        for _ in range(int(rng.integers(3, 7))):
            r = rng.uniform(0.08, 0.2) * s
            cx, cy = rng.uniform(r, s - r), rng.uniform(r, s - r)
            c = _mix(colour, tuple(int(v) for v in rng.integers(0, 256, 3)), rng.uniform(0, 0.5))  # type: ignore[arg-type]
            d.ellipse([cx - r, cy - r * 0.8, cx + r, cy + r * 0.8], fill=(*c, 230))
    return img


def _fit_text(draw: ImageDraw.ImageDraw, text: str, font_path: str, max_w: float, max_h: float) -> FontType:
    size = max(6, int(max_h))
    font = _font(font_path, size)
    while size > 6:
        box = draw.textbbox((0, 0), text, font=font)
        if box[2] - box[0] <= max_w and box[3] - box[1] <= max_h:
            break
        size = int(size * 0.85)
        font = _font(font_path, size)
    return font


def text_in(img: Image.Image, text: str, font_path: str, box: tuple[float, float, float, float], fill: RGB,
            outline: RGB | None = None) -> None:
    """Draws text as large as fits in box (x1, y1, x2, y2), centred."""
    d = ImageDraw.Draw(img)
    x1, y1, x2, y2 = box
    font = _fit_text(d, text, font_path, x2 - x1, y2 - y1)
    tb = d.textbbox((0, 0), text, font=font)
    x = (x1 + x2 - (tb[2] - tb[0])) / 2 - tb[0]
    y = (y1 + y2 - (tb[3] - tb[1])) / 2 - tb[1]
    stroke = max(1, int((y2 - y1) / 14)) if outline else 0
    d.text((x, y), text, font=font, fill=fill, stroke_width=stroke, stroke_fill=outline)


_EAN_L = ["0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011", "0110111",
          "0001011"]
_EAN_PARITY = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"]


def ean13_bits(digits: str) -> str:
    """The 95 modules of an EAN-13 symbol for 12 digits (the check digit is computed)."""
    nums = [int(c) for c in digits[:12]]
    check = (10 - sum(n * (3 if i % 2 else 1) for i, n in enumerate(nums)) % 10) % 10
    nums.append(check)
    left, right = nums[1:7], nums[7:]
    bits = "101"
    for n, parity in zip(left, _EAN_PARITY[nums[0]], strict=True):
        code = _EAN_L[n]
        bits += code if parity == "L" else "".join("1" if c == "0" else "0" for c in code)[::-1]
    bits += "01010"
    for n in right:
        bits += "".join("1" if c == "0" else "0" for c in _EAN_L[n])
    return bits + "101"


def barcode(img: Image.Image, rng: np.random.Generator, box: tuple[int, int, int, int]) -> None:
    x1, y1, x2, y2 = box
    d = ImageDraw.Draw(img)
    d.rectangle(box, fill=(255, 255, 255))
    bits = ean13_bits("".join(str(int(v)) for v in rng.integers(0, 10, 12)))
    module = (x2 - x1 - 8) / len(bits)
    for i, bit in enumerate(bits):
        if bit == "1":
            x = x1 + 4 + i * module
            d.rectangle([x, y1 + 3, x + module, y2 - 3], fill=(0, 0, 0))


def fine_print(img: Image.Image, rng: np.random.Generator, box: tuple[int, int, int, int], colour: RGB,
               font_path: str, size: int | None = None) -> None:
    """Lines of small text (ingredients, nutrition table): texture that reads as print at a distance.
    `size`: the text height in pixels (default: 6-12 lines fill the box)."""
    x1, y1, x2, y2 = box
    d = ImageDraw.Draw(img)
    size = size or max(6, int((y2 - y1) / rng.integers(6, 12)))
    font = _font(font_path, size)
    letters = "abcdefghijklmnoprstuvwyz      "
    y = y1
    while y + size < y2:
        n = int((x2 - x1) / (size * 0.5))
        line = "".join(rng.choice(list(letters), size=max(1, n)))
        d.text((x1, y), line, font=font, fill=colour)
        y += int(size * 1.3)


# ---------------------------------------------------------------- the design of one SKU

class Design:
    """The family's choices, drawn once from its art key; `face` renders one face of one variant."""

    def __init__(self, product: Product):
        fam = product.family
        rng = np.random.default_rng([fam.art_key, 11])
        self.product = product
        self.layout = str(rng.choice(LAYOUTS))
        self.background = str(rng.choice(BACKGROUNDS))
        self.illustration = str(rng.choice(ILLUSTRATIONS))
        self.brand_font = pick_font(rng, fam.script)
        self.text_font = pick_font(rng, "latin")
        self.cjk_font = pick_font(rng, "cjk")
        self.base, self.second, self.accent = fam.base_rgb, fam.accent_rgb, fam.text_rgb
        self.brand_fill = _contrast(self.base) if rng.random() < 0.6 else self.accent
        self.outline = _contrast(self.brand_fill) if rng.random() < 0.4 else None
        self.bilingual = rng.random() < 0.6
        self.art_seed = int(rng.integers(0, 2**31 - 1))
        self.transparent_body = rng.random() < 0.5  # bottles and jars: clear or tinted plastic outside the label
        self.body_tint = tuple(int(v) for v in rng.integers(120, 256, 3))

    def _rng(self, face: str) -> np.random.Generator:
        # Family-level: the same on every variant; only the variant's own elements below differ.
        return np.random.default_rng([self.art_seed, sum(map(ord, face))])

    def front(self, w: int, h: int) -> Image.Image:
        p, rng = self.product, self._rng("front")
        img = background(rng, self.background, (w, h), self.base, self.second)
        band_col = p.flavour_rgb
        u = min(w, h)
        flav_box: tuple[float, float, float, float]
        if self.layout == "band":
            y = int(h * rng.uniform(0.55, 0.7))
            ImageDraw.Draw(img).rectangle([0, y, w, y + int(h * 0.16)], fill=band_col)
            flav_box = (w * 0.05, y, w * 0.95, y + h * 0.16)
        elif self.layout == "diagonal":
            ImageDraw.Draw(img).polygon([(0, h * 0.75), (w, h * 0.55), (w, h * 0.72), (0, h * 0.92)], fill=band_col)
            flav_box = (w * 0.1, h * 0.66, w * 0.9, h * 0.8)
        elif self.layout == "split":
            ImageDraw.Draw(img).rectangle([0, h * 0.5, w, h], fill=band_col)
            flav_box = (w * 0.08, h * 0.78, w * 0.92, h * 0.92)
        elif self.layout == "frame":
            m = int(u * 0.05)
            ImageDraw.Draw(img).rectangle([m, m, w - m, h - m], outline=band_col, width=max(2, m))
            ImageDraw.Draw(img).rectangle([w * 0.15, h * 0.7, w * 0.85, h * 0.84], fill=band_col)
            flav_box = (w * 0.17, h * 0.7, w * 0.83, h * 0.84)
        elif self.layout == "minimal":
            ImageDraw.Draw(img).ellipse([w * 0.6, h * 0.02, w * 0.98, h * 0.02 + w * 0.38], fill=band_col)
            flav_box = (w * 0.1, h * 0.72, w * 0.9, h * 0.82)
        else:  # hero: a big illustration, the flavour on a ribbon
            ImageDraw.Draw(img).rectangle([0, h * 0.78, w, h * 0.9], fill=band_col)
            flav_box = (w * 0.05, h * 0.78, w * 0.95, h * 0.9)
        if self.illustration != "none":
            art_size = int(u * (0.75 if self.layout == "hero" else 0.5))
            art = illustration(self._rng("art"), self.illustration, art_size, p.flavour_rgb)
            ax = int(w * 0.5 - art_size / 2 + rng.uniform(-0.15, 0.15) * w)
            ay = int(h * (0.3 if self.layout != "split" else 0.22))
            img.paste(art, (max(0, ax), max(0, ay)), art)
        text_in(img, p.family.brand, self.brand_font, (w * 0.06, h * 0.04, w * 0.94, h * 0.2), self.brand_fill,
                self.outline)
        flav_text = _contrast(band_col)
        if self.bilingual:
            x1, y1, x2, y2 = flav_box
            mid = (y1 + y2) / 2
            text_in(img, p.flavour, self.text_font, (x1, y1, x2, mid), flav_text)
            text_in(img, p.flavour_cjk, self.cjk_font, (x1, mid, x2, y2), flav_text)
        else:
            text_in(img, p.flavour, self.text_font, flav_box, flav_text)
        text_in(img, p.size_text, self.text_font, (w * 0.62, h * 0.91, w * 0.97, h * 0.99), _contrast(self.base))
        if p.edition:
            r = u * 0.16
            cx, cy = w * 0.2, h * 0.3
            ang = np.linspace(0, 2 * np.pi, 24, endpoint=False)
            rad = np.where(np.arange(24) % 2 == 0, r, r * 0.75)
            ImageDraw.Draw(img).polygon([(cx + q * np.cos(a), cy + q * np.sin(a)) for a, q in zip(ang, rad, strict=True)],
                                        fill=(230, 20, 40))
            word = p.edition.split()[0].upper()
            text_in(img, word, self.text_font, (cx - r * 0.7, cy - r * 0.3, cx + r * 0.7, cy + r * 0.3),
                    (255, 255, 255))
        return img

    def back(self, w: int, h: int) -> Image.Image:
        rng = self._rng("back")
        img = Image.new("RGB", (w, h), _mix(self.base, (255, 255, 255), 0.35))
        text_in(img, self.product.family.brand, self.brand_font, (w * 0.1, h * 0.03, w * 0.9, h * 0.14),
                self.brand_fill)
        fine_print(img, rng, (int(w * 0.08), int(h * 0.2), int(w * 0.92), int(h * 0.7)), _contrast(self.base),
                   self.text_font)
        barcode(img, np.random.default_rng([self.product.index, 3]),
                (int(w * 0.3), int(h * 0.76), int(w * 0.9), int(h * 0.95)))
        return img

    def side(self, w: int, h: int) -> Image.Image:
        img = background(self._rng("side"), "solid", (w, h), self.base, self.second)
        d = ImageDraw.Draw(img)
        d.rectangle([0, h * 0.6, w, h * 0.75], fill=self.product.flavour_rgb)
        vertical = Image.new("RGB", (h, w), self.base)
        text_in(vertical, self.product.family.brand, self.brand_font, (h * 0.05, w * 0.1, h * 0.55, w * 0.9),
                self.brand_fill)
        img.paste(vertical.rotate(90, expand=True).crop((0, 0, w, int(h * 0.6))), (0, 0))
        text_in(img, self.product.size_text, self.text_font, (w * 0.1, h * 0.78, w * 0.9, h * 0.95),
                _contrast(self.base))
        return img

    def label(self, w: int, h: int) -> Image.Image:
        """A wrap-around label: front design at a quarter turn, back print at three quarters."""
        img = background(self._rng("label"), self.background, (w, h), self.base, self.second)
        fw = min(w // 2, int(h * 0.9))
        img.paste(self.front(fw, h), (w // 4 - fw // 2, 0))
        bw = min(w // 3, h)
        img.paste(self.back(bw, h), (3 * w // 4 - bw // 2, 0))
        return img


@functools.lru_cache(maxsize=256)
def textures(product: Product, label_aspect: float, front_aspect: float) -> dict[str, np.ndarray]:
    """RGBA uint8 textures of one SKU for its mesh parts, keyed as geometry.Part.texture names.

    label_aspect: circumference / label height of a round pack; front_aspect: width / height of a flat face.
    """
    design = Design(product)
    out: dict[str, np.ndarray] = {}
    fw, fh = (TEX_LONG, int(TEX_LONG / front_aspect)) if front_aspect >= 1 else (int(TEX_LONG * front_aspect), TEX_LONG)
    fw, fh = max(fw, 64), max(fh, 64)
    out["front"] = _rgba(design.front(fw, fh))
    out["back"] = _rgba(design.back(fw, fh))
    out["side"] = _rgba(design.side(max(64, fw // 3), fh))
    out["top"] = _rgba(background(design._rng("top"), "solid", (128, 128), design.base, design.second))
    lw = 768
    lh = max(64, int(lw / max(label_aspect, 0.5)))
    label = _rgba(design.label(lw, lh))
    if product.family.shape in ("bottle", "jar") and design.transparent_body:
        # See-through above and below the printed band.
        rows = np.arange(lh) / lh
        band = (rows > 0.3) & (rows < 0.8)
        tint = np.asarray(design.body_tint, np.uint8)
        label[~band, :, :3] = tint
        label[~band, :, 3] = 90
    out["label"] = label
    cap = Image.new("RGB", (64, 64), design.accent)
    out["cap"] = _rgba(cap.filter(ImageFilter.GaussianBlur(1)))
    out["plain"] = _rgba(Image.new("RGB", (16, 16), (200, 200, 205)))
    return out


def _rgba(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGBA"), np.uint8).copy()
