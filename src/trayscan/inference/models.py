"""Detector and embedder on top of any engine: preprocessing from the model config, decoding of outputs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from trayscan.inference.base import Detection
from trayscan.inference.engines import Engine
from trayscan.inference.preprocess import DetPreprocess, RecPreprocess


class ModelEmbedder:
    """Embedder protocol: crops in, L2-normalised [N, dim] float32 out, batched in chunks of `max_batch`."""

    def __init__(self, engine: Engine, preprocess: RecPreprocess, name: str, dim: int, max_batch: int = 32) -> None:
        self.engine = engine
        self.preprocess = preprocess
        self.name = name
        self.dim = dim
        self.max_batch = max_batch
        self._input = engine.input_names[0]

    def embed(self, crops_bgr: list[np.ndarray]) -> np.ndarray:
        if not crops_bgr:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        for i in range(0, len(crops_bgr), self.max_batch):
            batch = self.preprocess(crops_bgr[i:i + self.max_batch])
            parts.append(np.asarray(self.engine.run({self._input: batch})[0], dtype=np.float32))
        feats = np.concatenate(parts).reshape(len(crops_bgr), -1)
        # Official models output raw features; normalising twice is harmless, so always do it here.
        norms = np.linalg.norm(feats, axis=1, keepdims=True)
        return np.ascontiguousarray(feats / np.maximum(norms, 1e-12), dtype=np.float32)


def split_detector_outputs(outputs: Sequence[np.ndarray]) -> tuple[np.ndarray, int]:
    """PaddleDetection exports give boxes [N, 6] and a count [batch]; order differs between converters."""
    boxes = next((o for o in outputs if o.ndim == 2 and o.shape[-1] == 6), None)
    if boxes is None:
        raise ValueError(f"detector outputs have no [N, 6] boxes: shapes {[o.shape for o in outputs]}")
    counts = [o for o in outputs if o is not boxes and o.size >= 1 and o.ndim <= 1]
    n = int(counts[0].reshape(-1)[0]) if counts else len(boxes)
    return boxes, min(n, len(boxes))


class ModelDetector:
    """Detector protocol: BGR image in, boxes in original pixels, best first."""

    def __init__(self, engine: Engine, preprocess: DetPreprocess, name: str) -> None:
        self.engine = engine
        self.preprocess = preprocess
        self.name = name

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        feeds = self.preprocess(image_bgr)
        missing = [n for n in self.engine.input_names if n not in feeds]
        if missing:
            raise ValueError(f"detector {self.name} wants inputs {missing} that the preprocessing does not make")
        boxes, n = split_detector_outputs(self.engine.run({k: feeds[k] for k in self.engine.input_names}))
        h, w = image_bgr.shape[:2]
        out = []
        for cls, score, x1, y1, x2, y2 in boxes[:n].astype(np.float64):
            if cls < 0:  # PaddleDetection pads "no box" with class -1
                continue
            x1, x2 = float(np.clip(x1, 0, w)), float(np.clip(x2, 0, w))
            y1, y2 = float(np.clip(y1, 0, h)), float(np.clip(y2, 0, h))
            if x2 > x1 and y2 > y1:
                out.append(Detection(box=(x1, y1, x2, y2), score=float(score)))
        out.sort(key=lambda d: d.score, reverse=True)
        return out
