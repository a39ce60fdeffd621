"""Sibling check: tells apart products of one design (another pack size or flavour) that the embedding confuses.

Siblings share almost every pixel; what differs is a few small printed words ("70g" / "100g"). The embedding
brings the right family but often the wrong sibling (97 % of the starter embedder's errors on novel SKUs, 86 %
of them pack sizes). Geometric verification, a classic re-ranking step of instance retrieval, reads those
details: the crop's SIFT keypoints are matched to each candidate's enrolment photos, a homography (RANSAC)
aligns each photo onto the crop, and the candidates are compared only where their aligned photos disagree with
one another. There the right sibling's print correlates with the crop and the others' does not. It needs no
training, so it works for a product enrolled a minute ago.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from trayscan.config import SiblingCheckSettings
from trayscan.pipeline.centres import CentreEvidence
from trayscan.pipeline.decide import Decision, redecide, sibling_candidates
from trayscan.pipeline.search import Neighbour
from trayscan.pipeline.size_check import SizeEvidence
from trayscan.pipeline.text_check import TextEvidence

HIGH_PASS_SIGMA = 4.0  # removes lighting gradients and colour cast, keeps print edges
RATIO_TEST = 0.8  # Lowe's ratio test for a SIFT match
RANSAC_PIXELS = 4.0
MIN_INLIERS = 6  # fewer: the photo does not show this crop's design (or too little of it)
DISAGREEMENT_PERCENTILE = 90.0  # compare the candidates on the 10 % of pixels where they differ most
MIN_COMPARED_PIXELS = 20


@dataclass(frozen=True)
class DetailView:
    """What the check needs of one crop: grey pixels at a fixed scale and their SIFT keypoints."""

    gray: np.ndarray  # uint8, long side = the configured detail side
    points: np.ndarray  # N x 2 float32 keypoint positions in `gray`
    descriptors: np.ndarray  # N x 128 float32 (N may be 0)


# Gallery image ids -> their detail views (gallery/details.py for the service).
DetailSource = Callable[[Iterable[int]], dict[int, "DetailView"]]


@dataclass(frozen=True)
class _Alignment:
    inliers: int
    warped: np.ndarray  # the candidate photo's high-pass image in the query's frame
    valid: np.ndarray  # bool: pixels the warped photo covers


def detail_view(crop_bgr: np.ndarray, long_side: int, max_keypoints: int = 0) -> DetailView:
    """The crop's grey pixels at `long_side` and its `max_keypoints` strongest SIFT keypoints (0: all)."""
    scale = long_side / max(crop_bgr.shape[:2])
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(crop_bgr, None, fx=scale, fy=scale, interpolation=interpolation)
    gray = cv2.cvtColor(resized, cv2.COLOR_BGR2GRAY)
    # A detector per call: OpenCV feature objects are not documented as thread-safe.
    keypoints, descriptors = cv2.SIFT.create(nfeatures=max_keypoints).detectAndCompute(gray, None)
    points = np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2)
    if descriptors is None:
        descriptors = np.zeros((0, 128), dtype=np.float32)
    return DetailView(gray=gray, points=points, descriptors=descriptors)


def _high_pass(gray: np.ndarray) -> np.ndarray:
    image = gray.astype(np.float32)
    return image - cv2.GaussianBlur(image, (0, 0), HIGH_PASS_SIGMA)


def _align(query: DetailView, photo: DetailView) -> _Alignment | None:
    if len(photo.descriptors) < 2 or len(query.descriptors) < 2:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(photo.descriptors, query.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO_TEST * p[1].distance]
    if len(good) < MIN_INLIERS:
        return None
    source = photo.points[[m.queryIdx for m in good]]
    target = query.points[[m.trainIdx for m in good]]
    homography, mask = cv2.findHomography(source, target, cv2.RANSAC, RANSAC_PIXELS)
    if homography is None or int(mask.sum()) < MIN_INLIERS:
        return None
    height, width = query.gray.shape
    warped = cv2.warpPerspective(_high_pass(photo.gray), homography, (width, height))
    cover = cv2.warpPerspective(np.ones(photo.gray.shape, np.float32), homography, (width, height))
    return _Alignment(int(mask.sum()), warped, cover > 0.99)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum() + 1e-6))


def pick_sibling(query: DetailView, photos: dict[str, list[DetailView]]) -> dict[str, float] | None:
    """Score of each candidate SKU (higher: its print matches the crop), or None when the check cannot tell:
    fewer than two candidates, or a candidate none of whose photos aligns (not a sibling of the others)."""
    if len(photos) < 2:
        return None
    query_high_pass = _high_pass(query.gray)
    aligned: dict[str, list[_Alignment]] = {}
    for sku, views in photos.items():
        found = [a for a in (_align(query, view) for view in views) if a is not None]
        if not found:
            return None
        aligned[sku] = found
    # Where do the candidates differ? Their best-aligned photos, compared pairwise.
    best = [max(found, key=lambda a: a.inliers) for found in aligned.values()]
    covered = np.logical_and.reduce([a.valid for a in best])
    disagreement = np.zeros_like(query_high_pass)
    for i, first in enumerate(best):
        for second in best[i + 1:]:
            np.maximum(disagreement, np.abs(first.warped - second.warped), out=disagreement)
    disagreement = cv2.GaussianBlur(disagreement, (0, 0), 3)
    if covered.sum() > 5 * MIN_COMPARED_PIXELS:
        region = covered & (disagreement > np.percentile(disagreement[covered], DISAGREEMENT_PERCENTILE))
    else:
        region = covered
    scores: dict[str, float] = {}
    for sku, found in aligned.items():
        values = [
            _correlation(query_high_pass[mask], a.warped[mask])
            for a in found
            if (mask := region & a.valid).sum() >= MIN_COMPARED_PIXELS
        ]
        if not values:  # its photos cover too little of the region compared
            return None
        scores[sku] = max(values)
    return scores


def check_siblings(
    details: DetailSource | None,
    crop: np.ndarray,
    decision: Decision,
    neighbours: list[Neighbour],
    check: SiblingCheckSettings,
    threshold: float,
    size: SizeEvidence | None = None,
    centre: CentreEvidence | None = None,
    text: TextEvidence | None = None,
) -> Decision:
    """The decision, or the near-tied candidate SKU that the evidence favours: the one whose distinguishing words
    are read on the crop where `text` is given and reads one; else the print check's score or, where it cannot
    tell or is off, the embedding's similarity (to each candidate's centre where `centre` is given, else to its
    nearest photo), plus the size check's weighted score where every candidate has kiosk-camera photos."""
    candidates = sibling_candidates(neighbours, decision, check.margin, threshold, check.max_skus, check.images_per_sku)
    if not candidates:
        return decision
    read = text.choose(crop, candidates) if text is not None else None
    if read is not None:
        return decision if read == decision.sku else redecide(decision, neighbours, read)
    scores = None
    if details is not None:
        views = details(i for ids in candidates.values() for i in ids)
        photos = {sku: [views[i] for i in ids if i in views] for sku, ids in candidates.items()}
        scores = pick_sibling(detail_view(crop, check.detail_side, check.max_keypoints), photos)
    sizes = size.scores(candidates) if size is not None else None
    centres = centre.scores(candidates) if centre is not None else None
    if scores is None and sizes is None and centres is None:
        return decision
    if scores is None:
        scores = centres or {sku: max(n.similarity for n in neighbours if n.sku == sku) for sku in candidates}
    total = {sku: scores[sku] + (sizes[sku] if sizes else 0.0) for sku in candidates}
    best = max(total, key=lambda sku: total[sku])
    if decision.sku is None or total[best] - total[decision.sku] < check.switch_margin:
        return decision  # no clear lead over the embedding's answer
    return redecide(decision, neighbours, best)


@cache
def _helpers() -> ThreadPoolExecutor:
    """Threads that help requests check their trays, shared by the process. Sized well beyond any one tray's
    `threads` so that concurrent requests do not queue behind each other: a request whose helpers are all busy
    checks its crops in its own thread."""
    return ThreadPoolExecutor(max_workers=4 * (os.cpu_count() or 2), thread_name_prefix="sibling-check")


def check_tray(
    details: DetailSource | None,
    crops: Sequence[np.ndarray],
    decisions: Sequence[Decision],
    neighbours: Sequence[list[Neighbour]],
    check: SiblingCheckSettings,
    threshold: float,
    sizes: Sequence[SizeEvidence | None],
    centres: Sequence[CentreEvidence | None] | None = None,
    texts: Sequence[TextEvidence | None] | None = None,
) -> list[Decision]:
    """`check_siblings` for every crop of a tray, up to `check.threads` crops at a time (the calling thread and
    helpers take the next crop from one queue), answers in the crops' order."""
    checked: list[Decision] = list(decisions)
    queue = iter(range(len(crops)))
    lock = threading.Lock()
    failed = threading.Event()

    def work() -> None:
        while not failed.is_set():
            with lock:
                k = next(queue, None)
            if k is None:
                return
            try:
                checked[k] = check_siblings(details, crops[k], decisions[k], neighbours[k], check, threshold,
                                            sizes[k], centres[k] if centres is not None else None,
                                            texts[k] if texts is not None else None)
            except BaseException:
                failed.set()  # the others stop taking crops
                raise

    helpers = [_helpers().submit(work) for _ in range(min(check.threads, len(crops)) - 1)]
    try:
        work()
    finally:
        # A helper that never started has nothing left to do: no wait for a free thread.
        started = [helper for helper in helpers if not helper.cancel()]
        futures.wait(started)
    for helper in started:
        helper.result()  # re-raises a helper's error
    return checked
