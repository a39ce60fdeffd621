"""Training batches for the detector: COCO tray annotations, numpy/cv2 augmentation, background prefetch.

Every batch is a pure function of (seed, step), so a resumed run sees the same data it would have seen
without the interruption, and two runs with one seed are identical.
"""

from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from trayscan.synth.renderers import NON_PRODUCT_CATEGORY

# Trays are 1280x960 and the detector sees <= 384 px: decoding at half size (libjpeg DCT scaling) is
# several times cheaper and loses nothing the network could use.
DECODE_FLAG = cv2.IMREAD_REDUCED_COLOR_2
DECODE_SCALE = 0.5
MIN_KEPT_FRACTION = 0.35  # a box cut by a crop stays a target while this share of it is still in view


@dataclass(frozen=True)
class Sample:
    path: Path
    boxes: np.ndarray  # [M, 4] x1, y1, x2, y2 in original pixels, float32


def load_coco(data_dir: Path, limit: int = 0) -> list[Sample]:
    """Tray images and their item boxes (every product category is one class: mainbody).

    Objects of the "non-product" category (phones, keys, receipts on mesh-renderer trays) are not items: they
    are left out of the truth, so a box on one counts against the detector's precision.
    """
    coco = json.loads((data_dir / "annotations.json").read_text())
    not_items = {c["id"] for c in coco["categories"] if c.get("supercategory") == NON_PRODUCT_CATEGORY}
    boxes: dict[int, list[list[float]]] = {}
    for ann in coco["annotations"]:
        if ann["category_id"] in not_items:
            continue
        x, y, w, h = ann["bbox"]
        if w > 1 and h > 1:
            boxes.setdefault(ann["image_id"], []).append([x, y, x + w, y + h])
    samples = []
    for img in sorted(coco["images"], key=lambda i: i["id"]):
        b = np.asarray(boxes.get(img["id"], []), dtype=np.float32).reshape(-1, 4)
        samples.append(Sample(data_dir / img["file_name"], b))
    return samples[:limit] if limit else samples


def decode(path: Path, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    img = cv2.imread(str(path), DECODE_FLAG)
    if img is None:
        raise OSError(f"cannot decode {path}")
    return img, boxes * DECODE_SCALE


def random_crop(img: np.ndarray, boxes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random window of 50-100% of each side; boxes clipped, dropped when mostly cut away."""
    h, w = img.shape[:2]
    cw, ch = int(w * rng.uniform(0.5, 1.0)), int(h * rng.uniform(0.5, 1.0))
    x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    img = img[y0:y0 + ch, x0:x0 + cw]
    if len(boxes) == 0:
        return img, boxes
    shifted = boxes - np.array([x0, y0, x0, y0], dtype=np.float32)
    clipped = np.clip(shifted, 0, [cw, ch, cw, ch]).astype(np.float32)
    area = lambda b: (b[:, 2] - b[:, 0]).clip(0) * (b[:, 3] - b[:, 1]).clip(0)  # noqa: E731
    keep = area(clipped) >= MIN_KEPT_FRACTION * np.maximum(area(shifted), 1e-6)
    return img, clipped[keep]


def zoom_out(img: np.ndarray, boxes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Place the image on a larger plain canvas: smaller items, as from a higher camera."""
    h, w = img.shape[:2]
    r = rng.uniform(1.1, 1.6)
    canvas = np.empty((int(h * r), int(w * r), 3), dtype=np.uint8)
    canvas[:] = rng.integers(0, 256, 3, dtype=np.uint8)
    y0, x0 = int(rng.integers(0, canvas.shape[0] - h + 1)), int(rng.integers(0, canvas.shape[1] - w + 1))
    canvas[y0:y0 + h, x0:x0 + w] = img
    return canvas, boxes + np.array([x0, y0, x0, y0], dtype=np.float32)


def flip_rotate(img: np.ndarray, boxes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Trays are photographed from above: mirror and quarter-turn views are all plausible for boxes."""
    h, w = img.shape[:2]
    if rng.random() < 0.5:
        img = img[:, ::-1]
        boxes = np.stack([w - boxes[:, 2], boxes[:, 1], w - boxes[:, 0], boxes[:, 3]], axis=1)
    if rng.random() < 0.5:
        img = img[::-1]
        boxes = np.stack([boxes[:, 0], h - boxes[:, 3], boxes[:, 2], h - boxes[:, 1]], axis=1)
    if rng.random() < 0.5:  # transpose = quarter turn combined with the flips above
        img = img.transpose(1, 0, 2)
        boxes = boxes[:, [1, 0, 3, 2]]
    return np.ascontiguousarray(img), boxes.astype(np.float32).reshape(-1, 4)


def photometric(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Light, contrast, colour cast, saturation, hue, blur and sensor noise (for other cameras and lights)."""
    out = img.astype(np.float32)
    if rng.random() < 0.8:
        out = out * rng.uniform(0.6, 1.4) + rng.uniform(-30, 30)
    if rng.random() < 0.5:
        mean = out.mean()
        out = (out - mean) * rng.uniform(0.6, 1.4) + mean
    if rng.random() < 0.4:
        out = out * rng.uniform(0.85, 1.15, size=3).astype(np.float32)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        hsv = cv2.cvtColor(out, cv2.COLOR_BGR2HSV).astype(np.int16)
        hsv[..., 0] = (hsv[..., 0] + int(rng.integers(-12, 13))) % 180
        hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.5, 1.5), 0, 255)
        out = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR)
    if rng.random() < 0.2:
        k = int(rng.choice([3, 5]))
        out = cv2.GaussianBlur(out, (k, k), 0)
    if rng.random() < 0.2:
        noise = rng.normal(0, rng.uniform(2, 8), out.shape).astype(np.float32)
        out = np.clip(out.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    return out


def normalise(img_bgr: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """BGR uint8 HWC -> RGB float32 CHW, scaled to [0, 1] then ImageNet mean/std (as infer_cfg.yml says)."""
    rgb = img_bgr[:, :, ::-1].astype(np.float32) / 255.0
    return ((rgb - mean) / std).transpose(2, 0, 1)


INTERPS = (cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_AREA, cv2.INTER_CUBIC)


def augment(sample: Sample, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One training view: decoded, cropped/zoomed, flipped, recoloured, resized to size x size (no ratio)."""
    img, boxes = decode(sample.path, sample.boxes)
    if rng.random() < 0.15:
        img, boxes = zoom_out(img, boxes, rng)
    if rng.random() < 0.6:
        img, boxes = random_crop(img, boxes, rng)
    img, boxes = flip_rotate(img, boxes, rng)
    h, w = img.shape[:2]
    img = cv2.resize(img, (size, size), interpolation=INTERPS[int(rng.integers(len(INTERPS)))])
    boxes = boxes * np.array([size / w, size / h, size / w, size / h], dtype=np.float32)
    return photometric(img, rng), boxes


def collate(images: list[np.ndarray], boxes: list[np.ndarray], mean, std) -> dict[str, np.ndarray]:
    """ppdet's PicoHeadV2 inputs: padded gt with a mask, int64 labels (Paddle 3 ATSS needs int64)."""
    m = max(1, max(len(b) for b in boxes))
    n = len(images)
    gt_bbox = np.zeros((n, m, 4), np.float32)
    pad = np.zeros((n, m, 1), np.float32)
    for i, b in enumerate(boxes):
        gt_bbox[i, :len(b)] = b
        pad[i, :len(b)] = 1.0
    return {
        "image": np.stack([normalise(im, mean, std) for im in images]),
        "gt_bbox": gt_bbox,
        "gt_class": np.zeros((n, m, 1), np.int64),
        "pad_gt_mask": pad,
        "im_id": np.arange(n, dtype=np.int64).reshape(n, 1),
    }


class BatchStream:
    """Batch `step` = augmentation of images picked by a per-epoch permutation; built in a prefetch thread."""

    def __init__(self, samples: list[Sample], batch_size: int, sizes: list[int], seed: int,
                 mean: list[float], std: list[float]):
        self.samples, self.batch_size, self.sizes, self.seed = samples, batch_size, sizes, seed
        self.mean = np.asarray(mean, np.float32)
        self.std = np.asarray(std, np.float32)
        self._perms: dict[int, np.ndarray] = {}

    def _index(self, i: int) -> int:
        n = len(self.samples)
        epoch = i // n
        if epoch not in self._perms:
            self._perms = {epoch: np.random.default_rng([self.seed, 7, epoch]).permutation(n)}
        return int(self._perms[epoch][i % n])

    def batch(self, step: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([self.seed, step])
        size = int(rng.choice(self.sizes))
        images, boxes = [], []
        for j in range(self.batch_size):
            img, b = augment(self.samples[self._index(step * self.batch_size + j)], size, rng)
            images.append(img)
            boxes.append(b)
        return collate(images, boxes, self.mean, self.std)

    def iterate(self, start_step: int, end_step: int, prefetch: int = 3):
        """Yields (step, batch) from start_step; a daemon thread keeps `prefetch` batches ready."""
        q: queue.Queue = queue.Queue(maxsize=prefetch)

        def work() -> None:
            for s in range(start_step, end_step):
                q.put((s, self.batch(s)))
            q.put(None)

        threading.Thread(target=work, daemon=True).start()
        while (item := q.get()) is not None:
            yield item
