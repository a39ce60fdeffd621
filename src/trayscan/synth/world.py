"""The product world: families of near-identical SKUs, their designs, prices and the train/novel split.

Everything here is a pure function of (seed, number of families), so trays made with any --tray-seed show
the same products, and a catalog can be rebuilt from the seed alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

SHAPES = ("box", "can", "bottle", "bag")
NOVEL_FRACTION = 0.2  # share of families no model trains on

# Physical sizes in cm (length, width) of the face seen from above, per shape; a family picks one.
SHAPE_SIZES_CM: dict[str, list[tuple[float, float]]] = {
    "box": [(14.0, 9.0), (18.0, 12.0), (10.0, 7.0), (16.0, 16.0), (20.0, 8.0)],
    "can": [(12.2, 6.6), (11.5, 5.8), (15.7, 6.6)],
    "bottle": [(20.0, 6.5), (23.0, 7.0), (17.0, 5.8)],
    "bag": [(18.0, 13.0), (22.0, 15.0), (14.0, 11.0)],
}
SIZE_TEXTS: dict[str, list[str]] = {
    "box": ["100g", "200g", "250g", "12 pcs", "6 pcs", "400g"],
    "can": ["250ml", "310ml", "330ml", "500ml"],
    "bottle": ["350ml", "500ml", "550ml", "1L"],
    "bag": ["45g", "70g", "100g", "150g"],
}
# Flavour word (Latin, Chinese) and the colour its band usually has (RGB).
FLAVOURS: list[tuple[str, str, tuple[int, int, int]]] = [
    ("Original", "原味", (200, 40, 40)), ("Lemon", "柠檬", (250, 220, 40)), ("Peach", "蜜桃", (250, 160, 140)),
    ("Mango", "芒果", (255, 170, 20)), ("Cola", "可乐", (90, 30, 20)), ("Grape", "葡萄", (120, 50, 150)),
    ("Strawberry", "草莓", (230, 30, 80)), ("Mint", "薄荷", (90, 220, 170)), ("Green Tea", "绿茶", (60, 150, 60)),
    ("Coffee", "咖啡", (110, 70, 40)), ("Chocolate", "巧克力", (70, 40, 25)), ("Vanilla", "香草", (245, 235, 200)),
    ("Spicy", "香辣", (240, 60, 20)), ("BBQ", "烧烤", (150, 50, 30)), ("Sea Salt", "海盐", (80, 160, 230)),
    ("Honey", "蜂蜜", (235, 175, 50)), ("Orange", "橙子", (250, 130, 20)), ("Apple", "苹果", (150, 210, 60)),
    ("Melon", "蜜瓜", (180, 230, 140)), ("Lychee", "荔枝", (240, 190, 200)), ("Coconut", "椰子", (240, 240, 230)),
    ("Blueberry", "蓝莓", (60, 70, 170)), ("Cheese", "芝士", (250, 200, 80)), ("Tomato", "番茄", (220, 50, 40)),
]
LATIN_SYLLABLES = ["ka", "lo", "mi", "ra", "ze", "no", "vi", "ta", "su", "be", "qu", "do", "fa", "ri", "pon",
                   "mar", "lux", "cho", "ven", "tro", "sol", "nix", "pal", "gor", "zen", "ol", "ami", "ex"]
CJK_BRAND_CHARS = list("康师傅统一农夫山泉娃哈哈旺仔乐事雀巢百事可口达利园好丽友三只松鼠良品铺子盼盼元气森林东鹏特饮喜之郎")
LAYOUTS = ("band_right", "band_bottom", "band_diagonal", "band_left")
PATTERNS = ("plain", "gradient", "stripes", "dots", "waves")


@dataclass(frozen=True)
class Family:
    index: int
    name: str  # family id, e.g. "F012"
    brand: str
    script: str  # "latin" or "cjk": the script of the brand name
    shape: str
    size_cm: tuple[float, float]
    base_rgb: tuple[int, int, int]
    text_rgb: tuple[int, int, int]
    accent_rgb: tuple[int, int, int]
    layout: str
    pattern: str
    art_key: int  # picks clip art (or procedural art) deterministically
    split: str  # "train" or "novel"


@dataclass(frozen=True)
class Product:
    index: int  # 0-based; COCO category id is index + 1
    sku: str
    name: str
    family: Family
    flavour: str
    flavour_cjk: str
    flavour_rgb: tuple[int, int, int]
    size_text: str
    size_scale: float  # relative physical size within the family (bigger packs are bigger)
    price: Decimal
    currency: str
    edition: str = ""  # a special edition of the same flavour and size ("Limited Edition"); the mesh world has them

    @property
    def category_id(self) -> int:
        return self.index + 1

    @property
    def split(self) -> str:
        return self.family.split


def random_colour(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(0, 256, size=3))  # type: ignore[return-value]


def _jitter(rgb: tuple[int, int, int], rng: np.random.Generator, amount: int = 25) -> tuple[int, int, int]:
    return tuple(int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in rgb)  # type: ignore[return-value]


def _contrasting(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return (20, 20, 25) if luma > 140 else (250, 250, 245)


def _brand(rng: np.random.Generator, script: str) -> str:
    if script == "cjk":
        return "".join(rng.choice(CJK_BRAND_CHARS, size=int(rng.integers(2, 4))))
    word = "".join(rng.choice(LATIN_SYLLABLES, size=int(rng.integers(2, 4))))
    return word.capitalize()


def _make_family(rng: np.random.Generator, index: int, split: str) -> Family:
    shape = SHAPES[index % len(SHAPES)] if index < len(SHAPES) else str(rng.choice(SHAPES))
    sizes = SHAPE_SIZES_CM[shape]
    base = random_colour(rng)
    script = "cjk" if rng.random() < 0.45 else "latin"
    return Family(
        index=index,
        name=f"F{index:03d}",
        brand=_brand(rng, script),
        script=script,
        shape=shape,
        size_cm=sizes[int(rng.integers(len(sizes)))],
        base_rgb=base,
        text_rgb=_contrasting(base) if rng.random() < 0.7 else random_colour(rng),
        accent_rgb=random_colour(rng),
        layout=str(rng.choice(LAYOUTS)),
        pattern=str(rng.choice(PATTERNS)),
        art_key=int(rng.integers(0, 2**31 - 1)),
        split=split,
    )


FamilyMaker = Callable[[np.random.Generator, int, str], Family]
VariantMaker = Callable[[np.random.Generator, Family, int, str], list[Product]]


def assemble_world(rng: np.random.Generator, n_families: int, make_family: FamilyMaker,
                   make_variants: VariantMaker, currency: str) -> list[Product]:
    """Families (a share of them novel, chosen first) and their variants, in SKU order, from one random stream."""
    n_novel = max(1, round(n_families * NOVEL_FRACTION)) if n_families >= 2 else 0
    novel = set(rng.choice(n_families, size=n_novel, replace=False).tolist())
    products: list[Product] = []
    for f in range(n_families):
        family = make_family(rng, f, "novel" if f in novel else "train")
        products += make_variants(rng, family, len(products), currency)
    return products


def build_world(seed: int, n_families: int, currency: str = "CNY") -> list[Product]:
    """All products of the world, in SKU order."""
    return assemble_world(np.random.default_rng([seed, 0]), n_families, _make_family, _make_variants, currency)


def _make_variants(rng: np.random.Generator, family: Family, first_index: int, currency: str) -> list[Product]:
    """2-6 SKUs that differ only by flavour (band colour + word) or by pack size."""
    n_variants = int(rng.integers(2, 7))
    flavour_ids = rng.choice(len(FLAVOURS), size=n_variants, replace=False)
    sizes = SIZE_TEXTS[family.shape]
    base_size = int(rng.integers(len(sizes)))
    base_price = Decimal(int(rng.integers(15, 160))) / 10  # 1.50 .. 16.00
    variants = []
    for v in range(n_variants):
        # Mostly flavour variants; sometimes a second pack size of the first flavour.
        if v > 0 and rng.random() < 0.25:
            flav_id = int(flavour_ids[0])
            size_id = (base_size + v) % len(sizes)
        else:
            flav_id = int(flavour_ids[v])
            size_id = base_size
        word, word_cjk, rgb = FLAVOURS[flav_id]
        size_scale = 1.0 + 0.12 * (size_id - base_size)
        price = (base_price * Decimal(str(round(size_scale, 2))) + Decimal(int(rng.integers(0, 5))) / 10)
        index = first_index + v
        variants.append(Product(
            index=index,
            sku=f"TS{index + 1:04d}",
            name=f"{family.brand} {word} {sizes[size_id]}",
            family=family,
            flavour=word,
            flavour_cjk=word_cjk,
            flavour_rgb=_jitter(rgb, rng, 15),
            size_text=sizes[size_id],
            size_scale=size_scale,
            price=price.quantize(Decimal("0.10")),
            currency=currency,
        ))
    # Two variants with the same flavour and size would be one product: make their sizes differ.
    seen: set[tuple[str, str]] = set()
    unique = []
    for p in variants:
        key = (p.flavour, p.size_text)
        if key in seen:
            continue
        seen.add(key)
        unique.append(p)
    return _reindex(unique, first_index)


def _reindex(products: list[Product], first_index: int) -> list[Product]:
    out = []
    for offset, p in enumerate(products):
        index = first_index + offset
        out.append(Product(**{**p.__dict__, "index": index, "sku": f"TS{index + 1:04d}"}))
    return out
