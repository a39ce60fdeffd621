"""The mesh renderer's product world: many shapes, families of near-identical variants, and non-products.

It shares the catalog model (`world.Family`, `world.Product`) with the sprite renderer but draws its own
families from its own random stream, so `--renderer mesh` worlds hold other products than sprite worlds of the
same seed. Variants differ by flavour, by pack size or by a limited edition of the same flavour and size.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from trayscan.synth.world import FLAVOURS, Family, Product, assemble_world, random_colour

# Pack shapes and their physical sizes in cm: (height or length, width or diameter).
SHAPE_SIZES_CM: dict[str, list[tuple[float, float]]] = {
    "box": [(15.0, 10.0), (20.0, 14.0), (11.0, 7.5), (18.0, 18.0), (24.0, 9.0), (8.0, 5.5)],
    "can": [(12.2, 6.6), (11.5, 5.8), (15.7, 6.6), (8.8, 6.6)],
    "bottle": [(20.0, 6.5), (24.0, 7.2), (17.0, 5.6), (29.0, 8.5)],
    "pouch": [(18.0, 13.0), (23.0, 16.0), (14.0, 10.0), (27.0, 19.0)],
    "jar": [(9.0, 7.5), (12.0, 8.5), (7.0, 9.0)],
    "cup": [(8.0, 8.5), (11.0, 10.0), (6.5, 7.0)],
    "tube": [(16.0, 4.4), (19.0, 5.2), (12.0, 3.6)],
}
SHAPES = tuple(SHAPE_SIZES_CM)
SIZE_TEXTS: dict[str, list[str]] = {
    "box": ["80g", "125g", "200g", "300g", "500g", "10 bags", "24 pcs"],
    "can": ["200ml", "250ml", "330ml", "355ml", "440ml", "500ml"],
    "bottle": ["330ml", "450ml", "600ml", "750ml", "1.25L", "1.5L"],
    "pouch": ["35g", "60g", "90g", "120g", "180g", "250g"],
    "jar": ["180g", "250g", "340g", "400g"],
    "cup": ["65g", "100g", "125g", "150g", "200g"],
    "tube": ["50ml", "75ml", "100ml", "120g"],
}
EXTRA_FLAVOURS: list[tuple[str, str, tuple[int, int, int]]] = [
    ("Wasabi", "芥末", (150, 190, 60)), ("Yuzu", "柚子", (240, 210, 60)), ("Plum", "梅子", (140, 30, 70)),
    ("Matcha", "抹茶", (110, 160, 70)), ("Sesame", "芝麻", (200, 170, 120)), ("Pepper", "黑椒", (60, 55, 50)),
    ("Garlic", "蒜香", (235, 225, 190)), ("Cherry", "樱桃", (190, 20, 50)), ("Kiwi", "猕猴桃", (120, 170, 50)),
    ("Lime", "青柠", (120, 200, 60)), ("Red Bean", "红豆", (130, 40, 40)), ("Taro", "香芋", (170, 140, 200)),
]
ALL_FLAVOURS = FLAVOURS + EXTRA_FLAVOURS
EDITIONS = ("Limited Edition", "Festive Edition", "New Look")
# The objects a customer may put down with the shopping: annotated as "not a product".
NON_PRODUCTS = ("phone", "keys", "receipt", "coin purse", "card")

_CONSONANTS = list("bdfgklmnprstvzh") + ["ch", "sh", "tr", "br", "pl", "gr", "kr"]
_VOWELS = list("aeiou") + ["ai", "ou", "ee", "ia"]
_CJK_CHARS = list("金福味鲜香甜脆乐园星月山河田禾丰美佳好心悦晨光雪花春夏秋冬森海鹿熊猫牛羊麦稻谷")


def _brand(rng: np.random.Generator, script: str) -> str:
    if script == "cjk":
        return "".join(rng.choice(_CJK_CHARS, size=int(rng.integers(2, 5))))
    syllables = int(rng.integers(2, 4))
    word = "".join(str(rng.choice(_CONSONANTS)) + str(rng.choice(_VOWELS)) for _ in range(syllables))
    if rng.random() < 0.3:
        word += str(rng.choice(_CONSONANTS))
    return word.capitalize()


def _family(rng: np.random.Generator, index: int, split: str) -> Family:
    shape = SHAPES[index % len(SHAPES)] if index < len(SHAPES) else str(rng.choice(SHAPES))
    sizes = SHAPE_SIZES_CM[shape]
    script = "cjk" if rng.random() < 0.4 else "latin"
    return Family(index=index, name=f"M{index:04d}", brand=_brand(rng, script), script=script, shape=shape,
                  size_cm=sizes[int(rng.integers(len(sizes)))], base_rgb=random_colour(rng),
                  text_rgb=random_colour(rng), accent_rgb=random_colour(rng), layout="", pattern="",
                  art_key=int(rng.integers(0, 2**31 - 1)), split=split)


def build_world(seed: int, n_families: int, currency: str = "CNY") -> list[Product]:
    """All products, in SKU order (`MS00001`...); a pure function of (seed, families)."""
    rng = np.random.default_rng([seed, 0, 7])  # 7: the mesh renderer's stream, apart from the sprite world's
    return assemble_world(rng, n_families, _family, _variants, currency)


def _variants(rng: np.random.Generator, family: Family, first: int, currency: str) -> list[Product]:
    """2-6 SKUs of one design: mostly flavours, some pack sizes, sometimes a limited edition."""
    n = int(rng.integers(2, 7))
    flavour_ids = rng.choice(len(ALL_FLAVOURS), size=n, replace=False)
    sizes = SIZE_TEXTS[family.shape]
    base_size = int(rng.integers(len(sizes)))
    base_price = Decimal(int(rng.integers(12, 250))) / 10
    seen: set[tuple[str, str, str]] = set()
    out: list[Product] = []
    for v in range(n):
        flav, size_id, edition = int(flavour_ids[v]), base_size, ""
        kind = rng.random()
        if v > 0 and kind < 0.25:  # another pack size of the first flavour
            flav, size_id = int(flavour_ids[0]), (base_size + v) % len(sizes)
        elif v > 0 and kind < 0.35:  # the first flavour in a special edition
            flav, edition = int(flavour_ids[0]), str(rng.choice(EDITIONS))
        word, word_cjk, rgb = ALL_FLAVOURS[flav]
        key = (word, sizes[size_id], edition)
        if key in seen:
            continue
        seen.add(key)
        scale = 1.0 + 0.15 * (size_id - base_size)
        price = base_price * Decimal(str(round(scale, 2))) + Decimal(int(rng.integers(0, 6))) / 10
        index = first + len(out)
        name = f"{family.brand} {word} {sizes[size_id]}" + (f" {edition}" if edition else "")
        out.append(Product(index=index, sku=f"MS{index + 1:05d}", name=name, family=family, flavour=word,
                           flavour_cjk=word_cjk, flavour_rgb=rgb, size_text=sizes[size_id],
                           size_scale=scale, price=price.quantize(Decimal("0.10")), currency=currency,
                           edition=edition))
    return out
