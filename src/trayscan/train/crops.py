"""Cut item crops out of a `trayscan synth` dataset once, into one compact array file.

Decoding 1280x960 trays per training sample would cost more than the training step on 2 cores, so every
ground-truth box (tray items and enrolment photos) is cut once with a margin, scaled so its longer side is at
most `side` pixels, and packed into a flat uint8 buffer with offsets (no pickles).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from trayscan.boxes import relative_size

MARGIN = 0.15  # context kept around each box so box-jitter augmentation can grow the crop


@dataclass
class CropSet:
    """Crops of one dataset: image k is buffer[offsets[k]:offsets[k+1]].reshape(shapes[k])."""

    buffer: np.ndarray  # uint8, flat
    offsets: np.ndarray  # int64 [n+1]
    shapes: np.ndarray  # int32 [n, 3]
    boxes: np.ndarray  # float32 [n, 4]: the item box (x1, y1, x2, y2) inside the stored crop
    labels: np.ndarray  # int32 [n]: COCO category id (SKU index + 1)
    source: np.ndarray  # uint8 [n]: 0 tray, 1 enrolment photo
    visible: np.ndarray  # float32 [n]: visible fraction of the item
    # float32 [n]: the item's size in a photo of the kiosk camera (pipeline/size_check.py, relative_size): tray
    # crops and kiosk enrolment photos; NaN for photos of another camera and for sets cut before it was kept
    kiosk_size: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.kiosk_size is None:
            self.kiosk_size = np.full(len(self.labels), np.nan, np.float32)

    def __len__(self) -> int:
        return len(self.labels)

    def image(self, k: int) -> np.ndarray:
        return self.buffer[self.offsets[k]:self.offsets[k + 1]].reshape(self.shapes[k])

    def box_crops(self) -> list[np.ndarray]:
        """The item boxes alone (no margin): what a perfect detector would hand the embedder."""
        out = []
        for k in range(len(self)):
            x1, y1, x2, y2 = (int(round(v)) for v in self.boxes[k])
            out.append(self.image(k)[max(0, y1):max(y1 + 1, y2), max(0, x1):max(x1 + 1, x2)])
        return out

    def subset(self, mask: np.ndarray) -> CropSet:
        idx = np.flatnonzero(mask)
        parts = [self.image(int(k)).reshape(-1) for k in idx]
        offsets = np.zeros(len(idx) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([p.size for p in parts])
        return CropSet(buffer=np.concatenate(parts) if parts else np.zeros(0, np.uint8), offsets=offsets,
                       shapes=self.shapes[idx], boxes=self.boxes[idx], labels=self.labels[idx],
                       source=self.source[idx], visible=self.visible[idx], kiosk_size=self.kiosk_size[idx])

    @classmethod
    def concat(cls, loaders: list[Callable[[], CropSet]], buffer_sizes: list[int]) -> CropSet:
        """One set from several, each loaded only when its turn comes (labels must already be distinct across
        the parts): peak memory is the result plus one part, not twice the result (five worlds of 240 px crops
        are 14 GB)."""
        buffer = np.empty(sum(buffer_sizes), dtype=np.uint8)
        start, offsets, fields = 0, [np.zeros(1, np.int64)], []
        for load, size in zip(loaders, buffer_sizes, strict=True):
            part = load()
            buffer[start:start + size] = part.buffer[:size]
            offsets.append(part.offsets[1:] + start)
            fields.append({k: getattr(part, k) for k in ("shapes", "boxes", "labels", "source", "visible", "kiosk_size")})
            start += size
            del part
        return cls(buffer=buffer, offsets=np.concatenate(offsets),
                   **{k: np.concatenate([f[k] for f in fields]) for k in fields[0]})

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **{k: getattr(self, k) for k in self.__dataclass_fields__})
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> CropSet:
        with np.load(path) as z:
            return cls(**{k: z[k] for k in cls.__dataclass_fields__ if k in z})

    @staticmethod
    def stored_buffer_size(path: Path) -> int:
        """Bytes of crop pixels in a saved set, read without loading them."""
        with np.load(path) as z:
            return int(z["offsets"][-1])


def read_catalog(data_dir: Path) -> dict[int, dict[str, str]]:
    """category id -> catalog row (sku, family, split, ...); ids follow catalog order (SKU index + 1)."""
    with open(data_dir / "catalog.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by_sku = {r["sku"]: r for r in rows}
    coco = json.loads((data_dir / "annotations.json").read_text())
    return {int(c["id"]): by_sku[c["name"]] for c in coco["categories"] if c["name"] in by_sku}


def _annotated_images(ann_path: Path) -> Iterator[tuple[dict, list[dict]]]:
    coco = json.loads(ann_path.read_text())
    per_image: dict[int, list[dict]] = {}
    for a in coco["annotations"]:
        per_image.setdefault(int(a["image_id"]), []).append(a)
    for img in coco["images"]:
        yield img, per_image.get(int(img["id"]), [])


def cut_crop(image: np.ndarray, bbox_xywh: list[float], side: int, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """The box plus `margin` of context (clipped to the image), scaled to longer side <= side."""
    x, y, w, h = bbox_xywh
    H, W = image.shape[:2]
    x1, y1 = max(0, int(x - margin * w)), max(0, int(y - margin * h))
    x2, y2 = min(W, int(np.ceil(x + w + margin * w))), min(H, int(np.ceil(y + h + margin * h)))
    crop = image[y1:y2, x1:x2]
    s = min(1.0, side / max(crop.shape[:2]))
    if s < 1.0:
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * s)), max(1, round(crop.shape[0] * s))),
                          interpolation=cv2.INTER_AREA)
    box = (np.array([x - x1, y - y1, x + w - x1, y + h - y1], dtype=np.float32) * s)
    return np.ascontiguousarray(crop), box


def extract(data_dir: Path, side: int, splits: set[str], min_visible: float = 0.0,
            include_trays: bool = True, include_enrol: bool = True, margin: float = MARGIN,
            log_every: int = 500) -> CropSet:
    """All crops of SKUs whose catalog split is in `splits`."""
    catalog = read_catalog(data_dir)
    keep = {cid for cid, row in catalog.items() if row["split"] in splits}
    crops: list[np.ndarray] = []
    boxes, labels, source, visible, kiosk_size = [], [], [], [], []
    sources = []
    if include_trays:
        sources.append((data_dir / "annotations.json", 0))
    if include_enrol and (data_dir / "enrol" / "annotations.json").exists():
        sources.append((data_dir / "enrol" / "annotations.json", 1))
    for ann_path, src in sources:
        for n, (img, anns) in enumerate(_annotated_images(ann_path)):
            anns = [a for a in anns if int(a["category_id"]) in keep
                    and float(a.get("visible_fraction", 1.0)) >= min_visible and a["bbox"][2] >= 4 and a["bbox"][3] >= 4]
            if not anns:
                continue
            image = cv2.imread(str(data_dir / img["file_name"]), cv2.IMREAD_COLOR)
            if image is None:
                raise FileNotFoundError(data_dir / img["file_name"])
            kiosk = src == 0 or img.get("source") == "kiosk"  # trays are the kiosk camera's photos
            for a in anns:
                crop, box = cut_crop(image, a["bbox"], side, margin)
                crops.append(crop)
                boxes.append(box)
                labels.append(int(a["category_id"]))
                source.append(src)
                visible.append(float(a.get("visible_fraction", 1.0)))
                kiosk_size.append(relative_size(_xyxy(a["bbox"]), image.shape) if kiosk else np.nan)
            if log_every and (n + 1) % log_every == 0:
                print(f"  {ann_path.parent.name}: {n + 1} images, {len(crops)} crops", flush=True)
    sizes = [c.size for c in crops]
    offsets = np.zeros(len(crops) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(sizes)
    buffer = np.empty(int(offsets[-1]), dtype=np.uint8)
    for k, c in enumerate(crops):
        buffer[offsets[k]:offsets[k + 1]] = c.reshape(-1)
    return CropSet(
        buffer=buffer, offsets=offsets,
        shapes=np.array([c.shape for c in crops], dtype=np.int32).reshape(-1, 3),
        boxes=np.array(boxes, dtype=np.float32).reshape(-1, 4),
        labels=np.array(labels, dtype=np.int32), source=np.array(source, dtype=np.uint8),
        visible=np.array(visible, dtype=np.float32), kiosk_size=np.array(kiosk_size, dtype=np.float32),
    )


def _xyxy(bbox_xywh: list[float]) -> tuple[float, float, float, float]:
    x, y, w, h = bbox_xywh
    return x, y, x + w, y + h
