"""Box scorer: which observed boxes are items, learned from what the detector, the gallery and the other boxes say.

The threshold rule (detection score, or a weaker score with a good match in the gallery) looks at one box at a
time. A box on part of an item, a second box on one item, or a box around two items can score well and match
well; what gives them away is the boxes around them. The scorer is a logistic regression over a few such
features of each box (`BOX_FEATURES`), trained by `trayscan train box-scorer` on validation trays for one
detector + embedder pair, whose scores and similarities it has learned: with other models, or the same models
retrained (their weights files' fingerprints differ), it is not used.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trayscan.boxes import areas, inside_matrix, iou_matrix
from trayscan.inference.base import Detection
from trayscan.pipeline.decide import Decision

log = logging.getLogger(__name__)

FILE_NAME = "box_scorer.json"
FORMAT = 2  # 2: with the weights fingerprints of its models
WEIGHTS_SUFFIXES = (".onnx", ".pdiparams")
CONFIDENT_SCORE = 0.5  # boxes this sure set the tray's typical item size
NEIGHBOUR_SCORE = 0.4  # boxes this sure count as items another box may hold
HELD_SHARE = 0.7  # a box this much inside another is held by it
OVERLAP_IOU = 0.3  # a more confident box overlapping this much is a rival for the same item

BOX_FEATURES = (
    "score",  # the detector's
    "similarity",  # of the decided SKU, or of the best guess when unrecognized
    "recognized",  # 1 when a SKU was decided
    "nearest_similarity",  # the closest gallery image, whatever its SKU
    "iou_higher",  # largest IoU with a more confident box
    "iou_higher_same_sku",  # ... with a more confident box of the same SKU (a second box on one item)
    "inside_higher",  # largest share of this box inside a more confident box (a part box)
    "holds_higher",  # largest share of a more confident box inside this one (a group box)
    "boxes_held",  # fairly confident boxes lying mostly inside this one
    "log_relative_area",  # area against the median confident box of the tray
    "log_aspect",  # |log(width / height)|
    "rival_score",  # score of the most confident overlapping box (0 when none)
)


def box_features(detections: Sequence[Detection], decisions: Sequence[Decision]) -> np.ndarray:
    """[N, len(BOX_FEATURES)] for the boxes of one tray; "more confident" means a higher detector score."""
    n = len(detections)
    if n == 0:
        return np.zeros((0, len(BOX_FEATURES)))
    boxes = np.array([d.box for d in detections], dtype=np.float64)
    scores = np.array([d.score for d in detections])
    skus = [decision.sku for decision in decisions]
    rank = np.empty(n, int)
    rank[np.argsort(-scores, kind="stable")] = np.arange(n)
    higher = rank[None, :] < rank[:, None]  # [i, j]: j is more confident than i
    same_sku = np.array([[a is not None and a == b for b in skus] for a in skus])
    iou = iou_matrix(boxes, boxes)
    inside = inside_matrix(boxes, boxes)  # [i, j]: share of i inside j
    box_areas = areas(boxes)
    confident = box_areas[scores >= CONFIDENT_SCORE]
    typical = float(np.median(confident)) if len(confident) else float(box_areas[np.argmax(scores)])
    widths = np.maximum(boxes[:, 2] - boxes[:, 0], 1e-6)
    heights = np.maximum(boxes[:, 3] - boxes[:, 1], 1e-6)
    others = ~np.eye(n, dtype=bool)

    def largest(values: np.ndarray, where: np.ndarray) -> np.ndarray:
        return np.where(where, values, 0.0).max(axis=1)

    return np.stack([
        scores,
        np.array([decision.similarity for decision in decisions]),
        np.array([float(sku is not None) for sku in skus]),
        np.array([d.best_guess.similarity if d.best_guess else 0.0 for d in decisions]),
        largest(iou, higher),
        largest(iou, higher & same_sku),
        largest(inside, higher),
        largest(inside.T, higher),
        ((inside.T > HELD_SHARE) & others & (scores[None, :] >= NEIGHBOUR_SCORE)).sum(axis=1).astype(float),
        np.log(box_areas / max(typical, 1e-6) + 1e-6),
        np.abs(np.log(widths / heights)),
        largest(np.broadcast_to(scores[None, :], (n, n)), higher & (iou > OVERLAP_IOU)),
    ], axis=1)


def features_from(
    detections: Sequence[Detection], decisions: Sequence[Decision], floor: float
) -> tuple[list[int], np.ndarray]:
    """The boxes scored >= floor (their indices) and their features among one another: what the scorer sees, in
    the service and in training alike."""
    seen = [i for i, d in enumerate(detections) if d.score >= floor]
    return seen, box_features([detections[i] for i in seen], [decisions[i] for i in seen])


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """The logistic function, clipped so that exp cannot overflow."""
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -50.0, 50.0)))


@dataclass(frozen=True)
class BoxScorer:
    """Standardised features -> logistic regression -> the probability that a box is an item of its own."""

    mean: list[float]
    scale: list[float]
    weights: list[float]
    bias: float
    threshold: float  # keep boxes at least this likely (chosen on the training trays)
    floor: float  # detector score of the weakest box it was trained on: observe down to it
    detector: str  # the models whose scores and similarities it learned
    embedder: str
    detector_weights: str = ""  # `weights_fingerprint` of each model's folder
    embedder_weights: str = ""
    features: list[str] = field(default_factory=lambda: list(BOX_FEATURES))
    trained_on: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        z = (features - np.asarray(self.mean)) / np.asarray(self.scale)
        return sigmoid(z @ np.asarray(self.weights) + self.bias)

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / FILE_NAME
        path.write_text(json.dumps({"format": FORMAT, **asdict(self)}, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, folder: Path) -> BoxScorer:
        data = json.loads((folder / FILE_NAME).read_text())
        if data.pop("format", None) != FORMAT or data.get("features") != list(BOX_FEATURES):
            raise ValueError(f"{folder / FILE_NAME} was made for other box features: retrain it")
        sizes = {len(data[key]) for key in ("mean", "scale", "weights")}
        if sizes != {len(BOX_FEATURES)} or min(data["scale"]) <= 0 or not 0.0 <= data["threshold"] <= 1.0:
            raise ValueError(f"{folder / FILE_NAME} is damaged: one mean, scale > 0 and weight per feature needed")
        return cls(**data)


def weights_fingerprint(model_dir: Path) -> str:
    """A short hash of a model folder's weights files (ONNX and Paddle), to tell a retrained model from its
    predecessor of the same name."""
    digest = hashlib.sha256()
    for path in sorted(p for p in model_dir.iterdir() if p.suffix in WEIGHTS_SUFFIXES):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load_box_scorer(
    folder: Path | None, detector: str, embedder: str, model_dirs: tuple[Path, Path] | None = None
) -> BoxScorer | None:
    """The scorer in `folder` when it was trained for these models (names, and the weights in `model_dirs` =
    (detector folder, embedder folder) when given); None (the threshold rule) otherwise."""
    if folder is None:
        return None
    if not (folder / FILE_NAME).is_file():
        raise FileNotFoundError(
            f"box scorer not found: {folder / FILE_NAME} (set models.box_scorer_dir to null for the threshold rule)"
        )
    scorer = BoxScorer.load(folder)
    if (scorer.detector, scorer.embedder) != (detector, embedder):
        log.warning(
            "box scorer %s was trained for %s + %s, the models are %s + %s: boxes are chosen by the threshold rule",
            folder, scorer.detector, scorer.embedder, detector, embedder,
        )
        return None
    if model_dirs is not None:
        weights = tuple(weights_fingerprint(d) for d in model_dirs)
        if weights != (scorer.detector_weights, scorer.embedder_weights):
            log.warning(
                "box scorer %s was trained for other weights of %s + %s (retrained since?): boxes are chosen by "
                "the threshold rule; retrain the scorer (`make box-scorer`)", folder, detector, embedder,
            )
            return None
    return scorer
