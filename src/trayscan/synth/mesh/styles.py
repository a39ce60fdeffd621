"""What a mesh style varies: tray surfaces, lights and the camera. `standard` is for training; `holdout` uses
surfaces, light colours and directions and camera strengths that `standard` never draws, so a model chosen on
it has seen nothing of that family in training.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from trayscan.synth.mesh.design import background
from trayscan.synth.mesh.gl import Lighting, look_at, orthographic
from trayscan.synth.mesh.optics import Sensor

# Photographic tray surfaces (rock, sand, soil, grass, wood, slats): only the holdout style uses them.
SURFACE_PHOTO_DIR = Path("/usr/share/games/colobot/textures")
SURFACE_PHOTO_NAMES = ("dirty01", "dirty02", "dirty03", "dirty04", "dirty06", "dirty08", "dirty09", "desert4",
                       "desert5", "desert6", "mars001", "mars003", "mars005", "mars007", "moon103", "roca2",
                       "rocb2", "terra002", "green01", "green02", "mix01")
SURFACE_PHOTOS_EXTRA = ("/usr/share/backgrounds/mate/nature/Wood.jpg", "/usr/share/backgrounds/mate/nature/Dune.jpg",
                        "/usr/share/backgrounds/mate/nature/Blinds.jpg")
# Most kiosk trays are neutral (grey, black, white, beige, steel blue); the rest any colour.
NEUTRAL_SURFACES = ((40, 40, 42), (90, 90, 95), (150, 150, 150), (215, 215, 210), (235, 230, 215),
                    (190, 170, 140), (60, 80, 110), (120, 95, 70))


@dataclass(frozen=True)
class Style:
    name: str
    surfaces: tuple[str, ...]
    key_elevation_deg: tuple[float, float]
    colour_temperature_k: tuple[float, float]  # white-ish lights
    gel_prob: float  # chance of a strongly coloured key light
    softness: tuple[float, float]  # shadow PCF radius in texels
    distortion_k1: tuple[float, float]
    sensor: Sensor
    non_product_prob: float = 0.3  # chance that a tray holds 1-2 non-products


STANDARD = Style("standard", ("plain", "speckle", "grid", "weave", "grain"), (45.0, 88.0), (3200.0, 6800.0), 0.0,
                 (1.5, 8.0), (-0.10, 0.03), Sensor())
HOLDOUT = Style("holdout", ("photo",), (18.0, 45.0), (2400.0, 9000.0), 0.6, (0.3, 1.5), (-0.22, -0.11),
                Sensor(white_balance=0.25, vignette=(0.25, 0.55), defocus=(0.8, 2.4), motion_prob=0.35,
                       aberration=0.004, read_noise=(2.0, 6.0), shot_noise=(0.2, 0.5)))
BY_NAME = {s.name: s for s in (STANDARD, HOLDOUT)}
STYLES = tuple(BY_NAME)


def kelvin_rgb(kelvin: float) -> tuple[float, float, float]:
    """Approximate colour of a black body (Tanner Helland's fit), normalised so the brightest channel is 1."""
    t = kelvin / 100
    r = 255.0 if t <= 66 else 329.7 * (t - 60) ** -0.1332
    g = 99.47 * np.log(t) - 161.1 if t <= 66 else 288.1 * (t - 60) ** -0.0755
    b = 255.0 if t >= 66 else (0.0 if t <= 19 else 138.5 * np.log(t - 10) - 305.0)
    rgb = np.clip([r, g, b], 1, 255)
    return tuple(float(v) for v in rgb / rgb.max())  # type: ignore[return-value]


def lighting(style: Style, rng: np.random.Generator, extent: float) -> Lighting:
    elev = np.deg2rad(rng.uniform(*style.key_elevation_deg))
    azim = rng.uniform(0, 2 * np.pi)
    key_dir = np.array([np.cos(elev) * np.cos(azim), np.cos(elev) * np.sin(azim), np.sin(elev)])
    if rng.random() < style.gel_prob:
        hue = rng.uniform(0, 1)
        key = np.array([abs(np.sin(np.pi * (hue + k / 3))) for k in range(3)]) * 0.7 + 0.3
        key = key / key.max()
    else:
        key = np.array(kelvin_rgb(rng.uniform(*style.colour_temperature_k)))
    power = rng.uniform(0.7, 1.25)
    fill_azim = azim + np.pi + rng.uniform(-0.8, 0.8)
    fill_elev = np.deg2rad(rng.uniform(30, 70))
    fill_dir = np.array([np.cos(fill_elev) * np.cos(fill_azim), np.cos(fill_elev) * np.sin(fill_azim),
                         np.sin(fill_elev)])
    fill = np.array(kelvin_rgb(rng.uniform(3000, 8000))) * rng.uniform(0.05, 0.35)
    ambient = rng.uniform(0.12, 0.35)
    sky = np.array(kelvin_rgb(rng.uniform(5000, 10000))) * ambient
    ground = sky * rng.uniform(0.3, 0.7)
    light_vp = orthographic(extent, extent, 1.0, 400.0) @ look_at(key_dir * 150.0, np.zeros(3), _up(key_dir))
    return Lighting(key_dir, _rgb(key * power), fill_dir, _rgb(fill), _rgb(sky), _rgb(ground), float(rng.uniform(*style.softness)), float(rng.uniform(0.9, 1.2)), light_vp)


def _rgb(v: np.ndarray) -> tuple[float, float, float]:
    return float(v[0]), float(v[1]), float(v[2])


def _up(direction: np.ndarray) -> np.ndarray:
    return np.array([0.0, 1.0, 0.0]) if abs(direction[1]) < 0.9 else np.array([1.0, 0.0, 0.0])


@functools.lru_cache(maxsize=1)
def surface_photos() -> tuple[str, ...]:
    named = [str(SURFACE_PHOTO_DIR / f"{n}.png") for n in SURFACE_PHOTO_NAMES] + list(SURFACE_PHOTOS_EXTRA)
    return tuple(p for p in named if Path(p).exists())


@functools.lru_cache(maxsize=32)
def _surface_photo(path: str) -> Image.Image:
    img = Image.open(path)
    img.draft("RGB", (1024, 1024))
    return img.convert("RGB")


def surface(style: Style, rng: np.random.Generator, size: tuple[int, int] = (1024, 768)) -> np.ndarray:
    """RGBA texture of the tray surface."""
    kind = str(rng.choice(style.surfaces))
    w, h = size
    if rng.random() < 0.6:
        neutral = NEUTRAL_SURFACES[int(rng.integers(len(NEUTRAL_SURFACES)))]
        base = tuple(int(np.clip(c + rng.integers(-20, 21), 0, 255)) for c in neutral)
    else:
        base = tuple(int(v) for v in rng.integers(0, 256, 3))
    second = tuple(int(np.clip(c + rng.integers(-60, 61), 0, 255)) for c in base)
    if kind == "photo" and surface_photos():
        path = surface_photos()[int(rng.integers(len(surface_photos())))]
        img = _surface_photo(path)
        reps = int(rng.integers(1, 4))
        tile = img.resize((max(8, w // reps), max(8, h // reps)), Image.Resampling.BILINEAR)
        canvas = Image.new("RGB", (w, h))
        for y in range(0, h, tile.height):
            for x in range(0, w, tile.width):
                canvas.paste(tile, (x, y))
        arr = np.asarray(canvas, np.float32) * rng.uniform(0.6, 1.2, 3).astype(np.float32)
    elif kind == "grid":
        arr = np.asarray(background(rng, "checks", size, base, second), np.float32)  # type: ignore[arg-type]
    elif kind == "weave":
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        period = rng.uniform(4, 12)
        t = 0.5 + 0.25 * np.sin(xx / period * np.pi) * np.sin(yy / period * np.pi)
        arr = (np.asarray(base, np.float32) * (1 - t[..., None])
               + np.asarray(second, np.float32) * t[..., None]).astype(np.float32)
    elif kind == "grain":  # wood-like: stretched noise
        noise = rng.standard_normal((max(2, h // 40), max(2, w // 2))).astype(np.float32)
        grain = np.asarray(Image.fromarray(noise).resize((w, h), Image.Resampling.BICUBIC), np.float32)
        t = (np.sin(grain * 3) + 1) / 2
        arr = (np.asarray(base, np.float32) * (1 - 0.35 * t[..., None])
               + np.asarray(second, np.float32) * 0.35 * t[..., None]).astype(np.float32)
    else:
        arr = np.broadcast_to(np.asarray(base, np.float32), (h, w, 3)).copy()
        if kind == "speckle":
            arr += rng.normal(0, rng.uniform(6, 25), (h, w, 1)).astype(np.float32)
    rgba = np.full((h, w, 4), 255, np.uint8)
    rgba[..., :3] = np.clip(arr, 0, 255).astype(np.uint8)
    return rgba
