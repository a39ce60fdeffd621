"""The two independent renderers of the synthetic world, behind one interface for the dataset writer and CLI.

- `sprite` (scenes.py): flat product sprites pasted on a tray background, drawn from above without perspective.
- `mesh` (mesh/): textured 3-D meshes (boxes, lathe-made cans, bottles, jars and cups, tubes, pouches) rendered
  in perspective with lights, shadows and materials by software OpenGL, plus non-products on the trays.

They share the catalog model (world.Product) and nothing of the drawing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from trayscan.synth.world import Product

Box = tuple[int, int, int, int]
NON_PRODUCT_CATEGORY = "non-product"


@dataclass(frozen=True)
class TrayItem:
    """One annotated object of a tray: a product, or a non-product (`product` None)."""

    product: Product | None
    box: Box
    visible_fraction: float


# (products, rng, width, height, fewest, most items, style) -> photo and its items
TrayFn = Callable[[list[Product], np.random.Generator, int, int, int, int, str], tuple[np.ndarray, list[TrayItem]]]


@dataclass(frozen=True)
class Renderer:
    name: str
    has_non_products: bool
    build_world: Callable[[int, int], list[Product]]
    render_tray: TrayFn
    # (product, rng) -> photo, box of the product, where it was taken ("plain", "phone", "kiosk")
    render_enrolment: Callable[[Product, np.random.Generator], tuple[np.ndarray, Box, str]]
    # (rng, requested) -> how many enrolment photos a product gets
    enrolment_count: Callable[[np.random.Generator, int], int]


def _trays_of(render_tray: Callable[..., tuple[np.ndarray, list[Any]]]) -> TrayFn:
    """A renderer's own tray function, its items as the shared TrayItem."""

    def tray(products: list[Product], rng: np.random.Generator, w: int, h: int, lo: int, hi: int,
             style: str) -> tuple[np.ndarray, list[TrayItem]]:
        photo, items = render_tray(products, rng, w, h, lo, hi, style)
        return photo, [TrayItem(it.product, it.box, it.visible_fraction) for it in items]

    return tray


def _sprite() -> Renderer:
    from trayscan.synth import scenes
    from trayscan.synth.world import build_world

    def enrol(product: Product, rng: np.random.Generator) -> tuple[np.ndarray, Box, str]:
        photo, box = scenes.render_enrolment(product, rng)
        return photo, box, "plain"

    return Renderer("sprite", False, build_world, _trays_of(scenes.render_tray), enrol,
                    lambda rng, requested: requested)


def _mesh() -> Renderer:
    from trayscan.synth.mesh import catalog, scenes

    def count(rng: np.random.Generator, requested: int) -> int:
        # Staff take 1 to `requested` photos of a product, not always the same number.
        return int(rng.integers(1, requested + 1)) if requested > 1 else requested

    return Renderer("mesh", True, catalog.build_world, _trays_of(scenes.render_tray), scenes.render_enrolment, count)


_FACTORIES: dict[str, Callable[[], Renderer]] = {"sprite": _sprite, "mesh": _mesh}
RENDERER_NAMES = tuple(_FACTORIES)
# sprite: 'varied' adds patterned surfaces for training, 'shifted' surfaces neither shows (a held-out guard);
# mesh: 'holdout' lights, surfaces and camera strengths that 'standard' never draws (mesh/styles.py).
STYLES_BY_RENDERER: dict[str, tuple[str, ...]] = {"sprite": ("standard", "varied", "shifted"),
                                                  "mesh": ("standard", "holdout")}
_CACHE: dict[str, Renderer] = {}


def get(name: str) -> Renderer:
    """The named renderer (imported on first use: the mesh renderer needs OpenGL)."""
    if name not in _FACTORIES:
        raise ValueError(f"renderer must be one of {RENDERER_NAMES}")
    if name not in _CACHE:
        _CACHE[name] = _FACTORIES[name]()
    return _CACHE[name]
