"""Scene objects: a product's or a non-product's parts (mesh, texture, material), posed on the tray.

Sizes are physical (cm): a pack size variant is physically bigger, so a fixed camera sees the difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from trayscan.synth.mesh import geometry as g
from trayscan.synth.mesh.design import background, fine_print, photo_crop, text_in, textures
from trayscan.synth.mesh.gl import Material
from trayscan.synth.world import Product

MATERIALS: dict[str, Material] = {
    "board": Material(spec=0.08, shininess=10),  # matte printed carton
    "film": Material(spec=0.7, shininess=60),  # glossy printed plastic film
    "metal_print": Material(spec=0.9, shininess=70, metallic=0.45),  # a printed can body
    "metal": Material(spec=1.0, shininess=90, metallic=0.9),
    "foil": Material(spec=0.8, shininess=35, metallic=0.6),
    "plastic": Material(spec=0.4, shininess=30),
    "bottle": Material(spec=0.9, shininess=110),  # PET: see-through where the texture says so
    "glass": Material(spec=1.0, shininess=140),
    "paper": Material(spec=0.02, shininess=4),
    "screen": Material(spec=1.2, shininess=200),
    "leather": Material(spec=0.25, shininess=14),
}


@dataclass
class SceneObject:
    """Parts in the object's own frame (standing on z = 0), ready to be posed."""

    parts: list[tuple[np.ndarray, np.ndarray, str]]  # mesh, RGBA texture, material name
    kind: str  # the pack shape or the non-product kind
    product: Product | None  # None for a non-product

    def posed(self, matrix: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, str]]:
        return [(g.transform(mesh, matrix), tex, mat) for mesh, tex, mat in self.parts]


def pack_dims(product: Product) -> tuple[float, float, float]:
    """(width, depth, height) in cm; round packs: (diameter, diameter, height)."""
    h, w = product.family.size_cm
    k = product.size_scale ** 0.5
    if product.family.shape in ("box", "pouch"):
        depth_ratio = np.random.default_rng([product.family.art_key, 5]).uniform(0.22, 0.55)
        if product.family.shape == "pouch":
            depth_ratio *= 0.45
        return w * k, w * k * depth_ratio, h * k
    return w * k, w * k, h * k


def product_object(product: Product) -> SceneObject:
    shape = product.family.shape
    w, d, h = pack_dims(product)
    rng = np.random.default_rng([product.family.art_key, 9])
    r = w / 2
    if shape == "box":
        parts = g.box(w, d, h)
        tex = textures(product, 1.0, w / h)
    elif shape == "pouch":
        parts = g.pouch(w, h, d, rng)
        tex = textures(product, 1.0, w / h)
    elif shape == "can":
        parts = g.can(r, h)
        tex = textures(product, np.pi * w / (h * 0.95), 0.5)
    elif shape == "bottle":
        parts = g.bottle(r, h, rng)
        tex = textures(product, np.pi * w / (h * 0.8), 0.5)
    elif shape == "jar":
        parts = g.jar(r, h)
        tex = textures(product, np.pi * w / (h * 0.8), 0.5)
    elif shape == "cup":
        parts = g.cup(r, h)
        tex = textures(product, np.pi * w / h, 1.0)
    else:  # tube
        parts = g.tube(r, h)
        tex = textures(product, np.pi * w / h, 0.5)
    if shape == "cup":
        tex = {**tex, "top": tex["front"]}  # the printed lid carries the design
    if shape == "pouch":
        parts = [g.Part(p.mesh, p.texture, "film") for p in parts]
    return SceneObject([(p.mesh, tex[p.texture], p.material) for p in parts], shape, product)


def _flat(rgb: tuple[int, int, int], size: int = 16) -> np.ndarray:
    return np.asarray(Image.new("RGBA", (size, size), (*rgb, 255)), np.uint8).copy()


def non_product_object(kind: str, rng: np.random.Generator) -> SceneObject:
    """A phone, keys, a receipt, a coin purse or a payment card: things that are not for sale."""
    if kind == "phone":
        w, h, t = rng.uniform(6.8, 7.8), rng.uniform(14.0, 16.5), rng.uniform(0.7, 0.95)
        screen = Image.new("RGB", (256, 512), (8, 8, 12))
        if rng.random() < 0.5:  # a lit screen showing a picture
            screen.paste(photo_crop(rng, (236, 470)), (10, 20))
        parts = g.box(w, h, t)
        body = _flat(tuple(int(v) for v in rng.integers(20, 200, 3)))  # type: ignore[arg-type]
        glass = np.asarray(screen.convert("RGBA"), np.uint8).copy()
        # Box front faces -y; a phone lies with its top (the z face) up: use "top" for the screen.
        return SceneObject([(parts[3].mesh, glass, "screen")] + [(p.mesh, body, "plastic") for p in parts[:3]],
                           kind, None)
    if kind == "card":
        parts = g.box(8.56, 5.4, 0.08)
        art = background(rng, "gradient", (256, 160), tuple(int(v) for v in rng.integers(0, 256, 3)),  # type: ignore[arg-type]
                         tuple(int(v) for v in rng.integers(0, 256, 3)))  # type: ignore[arg-type]
        ImageDraw.Draw(art).rectangle([24, 60, 64, 90], fill=(210, 180, 90))
        tex = np.asarray(art.convert("RGBA"), np.uint8).copy()
        return SceneObject([(parts[3].mesh, tex, "film")] + [(p.mesh, tex, "film") for p in parts[:3]], kind, None)
    if kind == "receipt":
        w, h = rng.uniform(7.0, 8.0), rng.uniform(12.0, 30.0)
        paper = Image.new("RGB", (160, int(160 * h / w)), (246, 244, 236))
        fine_print(paper, rng, (10, 34, 150, paper.height - 10), (60, 60, 60), "", size=int(rng.integers(7, 11)))
        text_in(paper, "TOTAL", "", (10, 4, 150, 30), (20, 20, 20))
        mesh = g.curled_sheet(w, h, rng.uniform(0.3, 3.0))
        return SceneObject([(mesh, np.asarray(paper.convert("RGBA"), np.uint8).copy(), "paper")], kind, None)
    if kind == "coin purse":
        w, h = rng.uniform(9.0, 13.0), rng.uniform(7.0, 10.0)
        colour = tuple(int(v) for v in rng.integers(30, 200, 3))
        leather = Image.new("RGB", (128, 128), colour)
        ImageDraw.Draw(leather).rectangle([0, 14, 128, 20], fill=(180, 170, 150))  # the zip
        parts = g.pouch(w, h, rng.uniform(2.0, 3.5), rng, n=12)
        tex = np.asarray(leather.convert("RGBA"), np.uint8).copy()
        return SceneObject([(p.mesh, tex, "leather") for p in parts], kind, None)
    # keys: a ring and two or three keys fanned out from it
    metal = _flat(tuple(int(v) for v in rng.integers(150, 230, 3)))  # type: ignore[arg-type]
    ring_profile = [(1.5 + 0.12 * np.cos(a), 0.12 + 0.12 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 9)]
    meshes = [g.lathe(ring_profile, 24)]
    for k in range(int(rng.integers(2, 4))):
        ang = rng.uniform(-0.6, 0.6) + k * 0.7
        blade = g.box(rng.uniform(0.7, 1.0), 0.2, rng.uniform(3.5, 5.0))
        head = g.lathe([(0.0, 0.0), (1.1, 0.0), (1.1, 0.2), (0.0, 0.2)], 24)
        key = [g.transform(p.mesh, g.translation(0, 0, 0.2) @ g.rotation([1, 0, 0], np.pi / 2)
                           @ g.translation(0, 0, 0.5)) for p in blade]
        key.append(g.transform(head, g.translation(0, 1.6, 0.0)))
        place = g.rotation([0, 0, 1], ang) @ g.translation(0, 1.3, 0)
        meshes += [g.transform(m, place) for m in key]
    return SceneObject([(m, metal, "metal") for m in meshes], "keys", None)
