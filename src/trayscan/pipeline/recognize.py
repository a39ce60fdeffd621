"""The recognition pipeline: decode -> detect -> crop -> embed -> search -> decide -> candidate check (print, size
and centre evidence among near-tied siblings; `observe`),
then the items among the boxes (the box scorer, or the threshold rule: weak boxes kept only when recognized) ->
dedupe (`select_boxes`).

Each stage lives in its own module; this one only runs them in order and times them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace

import numpy as np

from trayscan.config import PipelineSettings
from trayscan.errors import GalleryEmptyError
from trayscan.gallery.index import GalleryIndex
from trayscan.inference.base import Detection, Detector, Embedder
from trayscan.pipeline.box_scorer import BoxScorer, features_from
from trayscan.pipeline.budget import PixelBudget
from trayscan.pipeline.centres import CentreEvidence, CentreSource
from trayscan.pipeline.crop import crop_with_padding
from trayscan.pipeline.decide import Decision, decide, sibling_candidates, sku_candidates
from trayscan.pipeline.decode import (
    ImageLimits,
    decode_image,
    decode_image_reduced,
    decoded_pixels,
    image_pixels,
)
from trayscan.pipeline.dedupe import Candidate, dedupe, drop_group_boxes
from trayscan.pipeline.detect import detect_items
from trayscan.pipeline.embed import embed_crops
from trayscan.pipeline.search import LabelLookup, Neighbour, search_neighbours
from trayscan.pipeline.siblings import DetailSource, check_tray
from trayscan.pipeline.size_check import SizeEvidence, SizeSource, relative_size
from trayscan.pipeline.text_check import TextEvidence, TextReader, TextSource, crops_to_read


@dataclass
class Timings:
    ms: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] = round((time.perf_counter() - start) * 1000.0, 2)


@dataclass(frozen=True)
class RecognizedBox:
    box: tuple[float, float, float, float]
    score: float
    decision: Decision


@dataclass(frozen=True)
class Recognition:
    boxes: list[RecognizedBox]
    timings_ms: dict[str, float]
    gallery_version: int


@dataclass(frozen=True)
class Observation:
    """What the models and the gallery say about one tray before any box is kept or dropped: every box over
    `floor` with its decision. The box settings (`BOX_SETTINGS`) act only after this, so a sweep over them
    observes each tray once (`trayscan eval --sweep`)."""

    detections: list[Detection]
    decisions: list[Decision]
    timings_ms: dict[str, float]
    gallery_version: int


# Pipeline settings that only choose among observed boxes (`select_boxes`).
BOX_SETTINGS = frozenset({
    "box_scorer", "box_score_threshold", "detection_threshold", "weak_detection_threshold", "weak_detection_similarity",
    "duplicate_iou", "duplicate_containment", "duplicate_iou_any_sku", "group_box_coverage",
})


def active_scorer(settings: PipelineSettings, scorer: BoxScorer | None) -> BoxScorer | None:
    return scorer if settings.box_scorer else None


def score_threshold(settings: PipelineSettings, scorer: BoxScorer) -> float:
    """The scorer's own threshold unless the settings override it."""
    return scorer.threshold if settings.box_score_threshold is None else settings.box_score_threshold


def observation_floor(settings: PipelineSettings, scorer: BoxScorer | None = None) -> float:
    """The lowest detector score any box these settings keep can have (the scorer sees every box down to its
    floor, as in training)."""
    used = active_scorer(settings, scorer)
    if used is not None:
        return used.floor
    return min(settings.detection_threshold, settings.weak_detection_threshold)


def _items_by_rule(observation: Observation, settings: PipelineSettings) -> list[tuple[int, float]]:
    """Boxes over the detection threshold, or weak ones recognized well enough, with their detector scores."""
    return [
        (i, d.score) for i, (d, decision) in enumerate(zip(observation.detections, observation.decisions, strict=True))
        if d.score >= settings.detection_threshold
        or (
            d.score >= settings.weak_detection_threshold
            and decision.sku is not None
            and decision.similarity >= settings.weak_detection_similarity
        )
    ]


def _items_by_scorer(
    observation: Observation, settings: PipelineSettings, scorer: BoxScorer
) -> list[tuple[int, float]]:
    """Boxes the scorer finds likely enough to be items, with their probabilities."""
    seen, features = features_from(observation.detections, observation.decisions, scorer.floor)
    likely = scorer.probabilities(features)
    threshold = score_threshold(settings, scorer)
    return [(i, float(p)) for i, p in zip(seen, likely, strict=True) if p >= threshold]


def select_boxes(
    observation: Observation, settings: PipelineSettings, scorer: BoxScorer | None = None
) -> list[RecognizedBox]:
    """The items among the observed boxes (by the scorer when one is given and on, else by the threshold rule),
    then one box per item, the more certain box first."""
    detections, decisions = observation.detections, observation.decisions
    used = active_scorer(settings, scorer)
    chosen = _items_by_rule(observation, settings) if used is None else _items_by_scorer(observation, settings, used)
    items = [i for i, _ in chosen]
    candidates = [Candidate(detections[i].box, certainty, decisions[i].sku) for i, certainty in chosen]
    kept = dedupe(candidates, settings.duplicate_iou, settings.duplicate_containment, settings.duplicate_iou_any_sku)
    kept = drop_group_boxes([c.box for c in candidates], kept, settings.group_box_coverage)
    return [RecognizedBox(detections[i].box, detections[i].score, decisions[i]) for i in (items[k] for k in kept)]


def in_photo_pixels(detection: Detection, factor: int) -> Detection:
    """A box found on an image decoded at 1/factor size, in the photo's own pixels."""
    if factor == 1:
        return detection
    x1, y1, x2, y2 = detection.box
    return Detection((x1 * factor, y1 * factor, x2 * factor, y2 * factor), detection.score)


class Stages:
    """The per-image stages with their settings; shared by checkout, enrolment and re-embedding."""

    def __init__(
        self,
        detector: Detector,
        embedder: Embedder,
        settings: PipelineSettings,
        limits: ImageLimits,
        box_scorer: BoxScorer | None = None,
        budget: PixelBudget | None = None,
        reader: TextReader | None = None,
    ) -> None:
        self.detector = detector
        self.embedder = embedder
        self.settings = settings
        self.limits = limits
        self.box_scorer = box_scorer  # trained for this detector + embedder; None: the threshold rule
        self.budget = budget or PixelBudget(limits.max_pixels)
        self.reader = reader  # reads printed text (the text check); None: the check is off

    def decode(self, data: bytes) -> np.ndarray:
        return decode_image(data, self.limits)

    @contextmanager
    def decoded(self, data: bytes) -> Iterator[np.ndarray]:
        """The decoded image while its pixels are held in the decode budget: use it (detect, crop) inside."""
        with self.budget.hold(image_pixels(data, self.limits)):
            yield self.decode(data)

    @contextmanager
    def decoded_tray(self, data: bytes) -> Iterator[tuple[np.ndarray, int]]:
        """A tray photo, decoded reduced where it is far larger than the pipeline needs, and the factor from its
        coordinates to the photo's; held in the decode budget (at its reduced size) while used inside."""
        pixels, _ = decoded_pixels(data, self.limits, self.limits.checkout_long_side)
        with self.budget.hold(pixels):
            yield decode_image_reduced(data, self.limits, self.limits.checkout_long_side)

    def detect(self, image_bgr: np.ndarray, threshold: float | None = None) -> list[Detection]:
        """Boxes over `threshold` (default: the detection threshold), best first."""
        if threshold is None:
            threshold = self.settings.detection_threshold
        return detect_items(self.detector, image_bgr, threshold, self.settings.max_detections)

    def crop(self, image_bgr: np.ndarray, boxes: list[tuple[float, float, float, float]]) -> list[np.ndarray]:
        return [crop_with_padding(image_bgr, box, self.settings.crop_padding) for box in boxes]

    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        return embed_crops(self.embedder, crops)

    @property
    def reads_text(self) -> bool:
        """The text check is on and has its reader."""
        return self.reader is not None and self.settings.text_check.enabled

    def read_text(self, crop: np.ndarray) -> str | None:
        """The text printed on a crop where the text check is on, else None (nothing read, or nothing to read)."""
        if self.reader is None or not self.reads_text:
            return None
        return self.reader.read(crop) or None


class Recognizer:
    def __init__(
        self,
        stages: Stages,
        gallery: GalleryIndex,
        labels: LabelLookup,
        details: DetailSource | None = None,
        sizes: SizeSource | None = None,
        centres: CentreSource | None = None,
        texts: TextSource | None = None,
    ) -> None:
        self.stages = stages
        self.gallery = gallery
        self.labels = labels
        self.details = details
        self.sizes = sizes
        self.centres = centres
        self.texts = texts

    def _sibling_details(self) -> DetailSource | None:
        return self.details if self.stages.settings.sibling_check.enabled else None

    def _size_source(self) -> SizeSource | None:
        return self.sizes if self.stages.settings.size_check.enabled else None

    def _centre_source(self) -> CentreSource | None:
        return self.centres if self.stages.settings.centre_check.enabled else None

    def _text_source(self) -> TextSource | None:
        return self.texts if self.stages.reads_text else None

    def _near_skus(self, neighbours: list[list[Neighbour]]) -> set[str]:
        """The SKUs near the top of any crop's neighbours: the only ones the candidate checks may weigh."""
        margin = self.stages.settings.sibling_check.margin
        return {n.sku for row in neighbours if row for n in row if n.similarity >= row[0].similarity - margin}

    def _size_evidence(
        self, sizes: SizeSource | None, near: set[str], crop_sizes: list[float]
    ) -> list[SizeEvidence | None]:
        """Each crop's size evidence: one catalog lookup for the near SKUs."""
        enrolled = sizes(near) if sizes is not None and near else {}
        if not enrolled:
            return [None] * len(crop_sizes)
        return [SizeEvidence(size, enrolled, self.stages.settings.size_check) for size in crop_sizes]

    def _centre_evidence(
        self, centres: CentreSource | None, near: set[str], embeddings: np.ndarray
    ) -> list[CentreEvidence | None]:
        """Each crop's centre evidence: the near SKUs' centres (cached until the gallery changes)."""
        found = centres(near) if centres is not None and near else {}
        if not found:
            return [None] * len(embeddings)
        return [CentreEvidence(embedding, found) for embedding in embeddings]

    def _text_evidence(
        self, texts: TextSource | None, decisions: list[Decision], neighbours: list[list[Neighbour]]
    ) -> list[TextEvidence | None]:
        """Each crop's text evidence, for the first crops (best boxes first) whose near-tied candidates differ in
        their words."""
        settings = self.stages.settings
        if texts is None or self.stages.reader is None:
            return [None] * len(decisions)
        check = settings.sibling_check
        candidates = [
            sibling_candidates(row, decision, check.margin, settings.similarity_threshold, check.max_skus,
                               check.images_per_sku)
            for decision, row in zip(decisions, neighbours, strict=True)
        ]
        return crops_to_read(candidates, texts, self.stages.reader, settings.text_check.max_crops)

    def recognize(self, data: bytes) -> Recognition:
        start = time.perf_counter()
        settings, scorer = self.stages.settings, self.stages.box_scorer
        observation = self.observe(data, observation_floor(settings, scorer))
        boxes = select_boxes(observation, settings, scorer)
        timings = {**observation.timings_ms, "total": round((time.perf_counter() - start) * 1000.0, 2)}
        return Recognition(boxes=boxes, timings_ms=timings, gallery_version=observation.gallery_version)

    def observe(self, data: bytes, floor: float) -> Observation:
        """Decode, detect every box scored >= floor, crop, embed, search, decide, sibling check."""
        stages, settings = self.stages, self.stages.settings
        timings = Timings()
        with ExitStack() as holding:  # the decoded image stays in the decode budget until its crops are cut
            with timings.stage("decode"):
                image, factor = holding.enter_context(stages.decoded_tray(data))
            if self.gallery.live_count == 0:
                raise GalleryEmptyError("the gallery is empty: enrol products before checkout")
            with timings.stage("detect"):  # and the crops of the boxes
                detections = stages.detect(image, floor)
                crops = stages.crop(image, [d.box for d in detections])
                crop_sizes = [relative_size(d.box, image.shape) for d in detections]
                detections = [in_photo_pixels(d, factor) for d in detections]
        with timings.stage("embed"):
            embeddings = stages.embed(crops)
        details, sizes, centres = self._sibling_details(), self._size_source(), self._centre_source()
        texts = self._text_source()
        checking = details is not None or sizes is not None or centres is not None or texts is not None
        with timings.stage("search"):
            version = self.gallery.version
            k = max(settings.top_k, settings.sibling_check.neighbours) if checking else settings.top_k
            neighbours = search_neighbours(self.gallery, self.labels, embeddings, k) if detections else []
        decisions = [
            replace(decide(row[: settings.top_k], settings.similarity_threshold), candidates=sku_candidates(row))
            for row in neighbours
        ]
        if checking and detections:
            with timings.stage("siblings"):
                near = self._near_skus(neighbours)
                decisions = check_tray(details, crops, decisions, neighbours, settings.sibling_check,
                                       settings.similarity_threshold, self._size_evidence(sizes, near, crop_sizes),
                                       self._centre_evidence(centres, near, embeddings),
                                       self._text_evidence(texts, decisions, neighbours))
        return Observation(detections, decisions, timings.ms, version)
