"""Stand-ins for the trained models that know the synthetic world's ground truth.

`TruthDetector` returns the annotated boxes of every photo it was told about (and nothing for others);
`TruthEmbedder` gives each registered crop its product's one-hot vector, and any other crop a random unit vector
far from all of them. With these, the web tests check the pages, not the models' accuracy: a product is
recognised exactly when it is enrolled.
"""

from __future__ import annotations

import hashlib

import numpy as np

from trayscan.inference.base import Detection

Box = tuple[float, float, float, float]


def pixels_key(image_bgr: np.ndarray) -> str:
    array = np.ascontiguousarray(image_bgr)
    return hashlib.sha1(repr(array.shape).encode() + array.tobytes()).hexdigest()


class TruthDetector:
    name = "web-test-truth-detector"

    def __init__(self) -> None:
        self.truth: dict[str, list[Detection]] = {}

    def register(self, image_bgr: np.ndarray, boxes: list[Box]) -> None:
        self.truth[pixels_key(image_bgr)] = [Detection(box=box, score=0.95) for box in boxes]

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        return list(self.truth.get(pixels_key(image_bgr), []))


class TruthEmbedder:
    name = "web-test-truth-embedder"
    dim = 512

    def __init__(self) -> None:
        self.labels: dict[str, int] = {}

    def register(self, crop_bgr: np.ndarray, label: int) -> None:
        if not 0 <= label < self.dim:
            raise ValueError(f"label {label} does not fit a {self.dim}-d one-hot vector")
        self.labels[pixels_key(crop_bgr)] = label

    def embed(self, crops_bgr: list[np.ndarray]) -> np.ndarray:
        features = np.zeros((len(crops_bgr), self.dim), np.float32)
        for row, crop in enumerate(crops_bgr):
            key = pixels_key(crop)
            label = self.labels.get(key)
            if label is not None:
                features[row, label] = 1.0
            else:  # unknown crop: a random direction, similarity ~0 to every product
                seed = int(key[:8], 16)
                vector = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
                features[row] = vector / np.linalg.norm(vector)
        return features
