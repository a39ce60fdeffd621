"""Ground truth of checkout trays from COCO-style annotations: `trayscan synth` output or the RPC test set.

Categories map to SKUs by name: a synth category's name is the SKU (`TS0001`), an RPC category's name is the
RPC product name (`1_puffed_food`). A catalog enrolled for RPC uses those names as SKUs. Boxes are COCO
`[x, y, w, h]` and are turned into `(x1, y1, x2, y2)`. Objects of the "non-product" category (a phone, keys:
`trayscan synth --renderer mesh` puts them on trays) are not billable and are left out of the truth. The difficulty level is the image's `level` when the file
has one (RPC's test json and synth trays do) and otherwise follows RPC's rule from the item count.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trayscan.synth.renderers import NON_PRODUCT_CATEGORY

Box = tuple[float, float, float, float]
LEVELS = ("easy", "medium", "hard")


def level_of(n_items: int) -> str:
    """RPC's split: easy <= 7 items, medium 8-12, hard >= 13."""
    return "easy" if n_items <= 7 else "medium" if n_items <= 12 else "hard"


@dataclass(frozen=True)
class TruthItem:
    box: Box
    sku: str


@dataclass(frozen=True)
class Tray:
    image_id: int
    file_name: str
    width: int
    height: int
    level: str
    items: tuple[TruthItem, ...]

    @property
    def counts(self) -> Counter[str]:
        return Counter(item.sku for item in self.items)


@dataclass(frozen=True)
class TraySet:
    trays: list[Tray]
    skus: list[str]  # every category of the file, in category id order
    # SKU -> its category's supercategory: the design family in synth files (siblings share it), the product
    # group in RPC's; empty where the file has none
    families: dict[str, str] = field(default_factory=dict)

    def limit(self, n: int | None) -> TraySet:
        return self if n is None else TraySet(self.trays[:n], self.skus, self.families)


class AnnotationError(ValueError):
    """The annotation file is not COCO-style checkout ground truth."""


def _box(bbox: Any, where: str) -> Box:
    try:
        x, y, w, h = (float(v) for v in bbox)
    except (TypeError, ValueError) as error:
        raise AnnotationError(f"{where}: bbox must be [x, y, w, h], got {bbox!r}") from error
    return (x, y, x + w, y + h)


def parse_annotations(data: dict[str, Any]) -> TraySet:
    try:
        categories = {int(c["id"]): str(c["name"]) for c in data["categories"]}
        not_for_sale = {int(c["id"]) for c in data["categories"] if c.get("supercategory") == NON_PRODUCT_CATEGORY}
        images = data["images"]
        annotations = data["annotations"]
    except (KeyError, TypeError, ValueError) as error:
        raise AnnotationError(
            f"need images, annotations and categories with id and name ({error!r})"
        ) from error
    items: dict[int, list[TruthItem]] = {int(image["id"]): [] for image in images}
    for ann in annotations:
        where = f"annotation {ann.get('id')}"
        image_id, category_id = int(ann["image_id"]), int(ann["category_id"])
        if image_id not in items:
            raise AnnotationError(f"{where}: unknown image_id {image_id}")
        if category_id not in categories:
            raise AnnotationError(f"{where}: unknown category_id {category_id}")
        if category_id in not_for_sale:
            continue
        items[image_id].append(TruthItem(_box(ann["bbox"], where), categories[category_id]))
    trays = []
    for image in images:
        image_id = int(image["id"])
        found = items[image_id]
        level = str(image.get("level") or level_of(len(found)))
        if level not in LEVELS:
            raise AnnotationError(f"image {image_id}: level {level!r} is not one of {LEVELS}")
        trays.append(
            Tray(
                image_id=image_id,
                file_name=str(image["file_name"]),
                width=int(image.get("width", 0)),
                height=int(image.get("height", 0)),
                level=level,
                items=tuple(found),
            )
        )
    trays.sort(key=lambda tray: tray.image_id)
    families = {
        categories[int(c["id"])]: str(c["supercategory"])
        for c in data["categories"]
        if c.get("supercategory") and int(c["id"]) not in not_for_sale
    }
    return TraySet(
        trays=trays, skus=[categories[k] for k in sorted(categories) if k not in not_for_sale], families=families
    )


def load_annotations(path: Path) -> TraySet:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise AnnotationError(f"{path}: not JSON ({error})") from error
    return parse_annotations(data)


def image_path(images_dir: Path, tray: Tray) -> Path:
    """Synth file names are relative to the dataset folder (`trays/000001.jpg`); RPC's are bare file names."""
    direct = images_dir / tray.file_name
    if direct.is_file():
        return direct
    return images_dir / Path(tray.file_name).name
