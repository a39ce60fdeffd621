"""Small, fast stand-ins for the trained models, implementing the inference protocols.

- `BlobDetector` finds coloured items on a light background (connected components), unless it was told the
  ground-truth boxes of an image with `register`, which it then returns as-is (touching items stay apart).
- `HistogramEmbedder` hashes the colour histogram of a crop into a 512-d unit vector: crops of one product
  design are near-identical vectors, different designs are far apart.
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np

from trayscan.inference.base import Detection

Box = tuple[float, float, float, float]


def image_key(image_bgr: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(image_bgr).tobytes()).hexdigest()


class BlobDetector:
    name = "fake-blob-detector"

    def __init__(self, min_area: int = 100) -> None:
        self.min_area = min_area
        self.truth: dict[str, list[Detection]] = {}
        self.calls = 0
        self.shapes: list[tuple[int, ...]] = []  # of the images it was given, in order

    def register(
        self, image_bgr: np.ndarray, boxes: list[Box], score: float = 0.9, scores: list[float] | None = None
    ) -> None:
        """Boxes to return for this image, all scored `score` or each its own of `scores`."""
        per_box = scores if scores is not None else [score] * len(boxes)
        self.truth[image_key(image_bgr)] = [Detection(box=b, score=s) for b, s in zip(boxes, per_box, strict=True)]

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        self.calls += 1
        self.shapes.append(image_bgr.shape)
        known = self.truth.get(image_key(image_bgr))
        if known is not None:
            return list(known)
        foreground = (image_bgr.astype(np.int16).min(axis=2) < 200).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(foreground, connectivity=4)
        detections = []
        for x, y, w, h, area in stats[1:count]:
            if area >= self.min_area:
                detections.append(Detection(box=(float(x), float(y), float(x + w), float(y + h)), score=0.8))
        return sorted(detections, key=lambda d: -d.box[2] * d.box[3])


class HistogramEmbedder:
    name = "fake-histogram-embedder"
    dim = 512

    def __init__(self) -> None:
        self.batches: list[int] = []

    def embed(self, crops_bgr: list[np.ndarray]) -> np.ndarray:
        self.batches.append(len(crops_bgr))
        features = np.zeros((len(crops_bgr), self.dim), np.float32)
        for row, crop in enumerate(crops_bgr):
            bins = (crop.reshape(-1, 3) // 32).astype(np.int64)  # 8 levels per channel: 8*8*8 = 512 bins
            index = bins[:, 0] * 64 + bins[:, 1] * 8 + bins[:, 2]
            features[row] = np.bincount(index, minlength=self.dim)
            features[row, -1] = 0.0  # ignore the white background bin
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        return features / np.maximum(norms, 1e-12)
