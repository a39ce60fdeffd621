"""The PP-ShiTu way over trayscan's own models and gallery, for side-by-side comparison.

Follows PaddleClas `deploy/python/predict_system.py` with `deploy/configs/inference_general.yaml`:
1. detector boxes: the `max_det_results` (5) best, then those under `threshold` (0.2) dropped (through
   trayscan's detect stage, which also clips boxes to the image and skips boxes under 2 px);
2. the whole image appended as one more box (score 1.0) "to improve recall";
3. each box cropped as is (no padding) and embedded in its own call, its neighbours searched (`return_k` 5;
   here in one batch for all boxes, which only makes the baseline faster);
4. only the top-1 neighbour counts, and the box is dropped when its similarity is under `score_thres` (0.5);
5. NMS over the recognised boxes ordered by similarity, whatever their SKUs, keeping boxes whose IoU (PP-ShiTu's
   +1 pixel convention) with every kept box is <= `rec_nms_thresold` (0.05): touching items merge.
Each kept box is one receipt line of quantity 1. Decoding, detection, cropping, embedding and search are
trayscan's stages (`Stages`), so only the logic differs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from trayscan.pipeline.crop import crop_with_padding
from trayscan.pipeline.decide import Decision
from trayscan.pipeline.detect import detect_items
from trayscan.pipeline.recognize import Recognition, RecognizedBox, Recognizer, Timings
from trayscan.pipeline.search import search_neighbours

Box = tuple[float, float, float, float]
WHOLE_IMAGE_SCORE = 1.0


@dataclass(frozen=True)
class PPShiTuSettings:
    threshold: float = 0.2
    max_det_results: int = 5
    return_k: int = 5
    score_thres: float = 0.5
    rec_nms_threshold: float = 0.05


def rec_nms(boxes: list[Box], scores: list[float], threshold: float) -> list[int]:
    """PP-ShiTu's `nms_to_rec_results`: indices kept, best similarity first, SKU ignored."""
    if not boxes:
        return []
    b = np.asarray(boxes, dtype=np.float32)
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    kept: list[int] = []
    while order.size > 0:
        i, rest = int(order[0]), order[1:]
        kept.append(i)
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        overlap = inter / (areas[i] + areas[rest] - inter)
        order = rest[overlap <= threshold]
    return kept


class PPShiTuRecognizer:
    """Same `recognize(bytes) -> Recognition` as trayscan's Recognizer, with PP-ShiTu's logic."""

    def __init__(self, recognizer: Recognizer, settings: PPShiTuSettings | None = None) -> None:
        self.recognizer = recognizer
        self.settings = settings or PPShiTuSettings()

    def boxes(self, image_bgr: np.ndarray) -> list[tuple[Box, float]]:
        """Steps 1-2: the capped detector boxes plus the whole image."""
        s = self.settings
        found = detect_items(self.recognizer.stages.detector, image_bgr, s.threshold, s.max_det_results)
        height, width = image_bgr.shape[:2]
        whole: Box = (0.0, 0.0, float(width), float(height))
        return [(d.box, d.score) for d in found] + [(whole, WHOLE_IMAGE_SCORE)]

    def recognize(self, data: bytes) -> Recognition:
        r, s = self.recognizer, self.settings
        stages = r.stages
        timings = Timings()
        start = time.perf_counter()
        with timings.stage("decode"):
            image = stages.decode(data)
        with timings.stage("detect"):
            boxes = self.boxes(image)
        with timings.stage("embed"):
            # One embedder call per box, as PP-ShiTu does; crops without trayscan's padding.
            embeddings = [stages.embed([crop_with_padding(image, box, 0.0)]) for box, _ in boxes]
        with timings.stage("search"):
            # One batched search and label lookup for all boxes: cheaper than PP-ShiTu's search per box, so
            # the comparison favours the baseline.
            version = r.gallery.version
            neighbours = search_neighbours(r.gallery, r.labels, np.concatenate(embeddings), s.return_k)
        recognised = [
            RecognizedBox(box, score, Decision(row[0].sku, row[0].similarity, row[0]))
            for (box, score), row in zip(boxes, neighbours, strict=True)
            if row and row[0].similarity >= s.score_thres
        ]
        with timings.stage("nms"):
            kept = rec_nms(
                [b.box for b in recognised], [b.decision.similarity for b in recognised], s.rec_nms_threshold
            )
        timings.ms["total"] = round((time.perf_counter() - start) * 1000.0, 2)
        return Recognition(
            boxes=[recognised[i] for i in kept], timings_ms=timings.ms, gallery_version=version
        )
