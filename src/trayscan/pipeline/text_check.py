"""Text check: printed words decide between near-tied siblings (another flavour or pack size of one design).

Siblings differ in a flavour word or a pack size ("Cherry 125g" / "Cherry 200g"). Where the words on the crop (read
by PP-OCRv4 mobile) include a word that exactly one candidate has and the others lack (its distinguishing words:
from its catalog name and from the text read on its enrolment photos), that candidate is the answer. The check
reads only crops whose candidates have distinguishing words, and at most `max_crops` crops of a tray, the best
boxes first.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from trayscan.config import TextCheckSettings

log = logging.getLogger(__name__)

# A number with its unit ("250ml", "1.5l"), a Latin word of two letters or more, a run of CJK characters.
TOKEN = re.compile(r"\d+(?:[.,]\d+)?[a-z]*|[a-z]{2,}|[\u4e00-\u9fff]+")

# SKU -> the texts that name it: its catalog name and what was read on its gallery images (Catalog.sku_texts).
TextSource = Callable[[Iterable[str]], dict[str, list[str]]]


def words(text: str) -> frozenset[str]:
    """The tokens of `text`, lower case; "250 ml" reads as "250ml", and a 0 between letters as the O that OCR
    took for it ("LEM0N")."""
    joined = re.sub(r"(\d)\s+(ml|l|g|kg|oz|pcs)\b", r"\1\2", text.lower())
    return frozenset(TOKEN.findall(re.sub(r"(?<=[a-z])0(?=[a-z])", "o", joined)))


def distinguishing(texts: dict[str, list[str]]) -> dict[str, frozenset[str]]:
    """Each SKU's words that none of the other SKUs has."""
    own = {sku: frozenset().union(*(words(t) for t in lines)) for sku, lines in texts.items()}
    return {sku: mine - frozenset().union(*(w for other, w in own.items() if other != sku)) for sku, mine in own.items()}


def decide_by_words(read: frozenset[str], unique: dict[str, frozenset[str]]) -> str | None:
    """The one SKU with the most of its distinguishing words read, or None where none is read or two tie."""
    hits = {sku: len(mine & read) for sku, mine in unique.items()}
    best = max(hits.values(), default=0)
    if best == 0 or list(hits.values()).count(best) > 1:
        return None
    return max(hits, key=lambda sku: hits[sku])


class TextReader(Protocol):
    def read(self, image_bgr: np.ndarray) -> str: ...


class OcrReader:
    """PP-OCRv4 mobile text detection and recognition (`rapidocr-onnxruntime`, its models inside the wheel;
    `make venv` installs it), without the angle classifier, loaded at startup. One engine reads one crop at a time:
    the package does not document its pre- and post-processing as thread-safe, and one engine a server thread would
    hold the models many times over."""

    def __init__(self, detector_side: int) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as error:
            raise ImportError(
                "pipeline.text_check needs rapidocr-onnxruntime 1.4.4: run `make venv` (docs/PIPELINE.md, Printed text)"
            ) from error
        self._engine = RapidOCR(use_cls=False, det_limit_side_len=detector_side, intra_op_num_threads=1,
                                inter_op_num_threads=1)
        self._lock = threading.Lock()

    def read(self, image_bgr: np.ndarray) -> str:
        with self._lock:
            try:
                result, _ = self._engine(image_bgr)
            except Exception as error:  # noqa: BLE001 - evidence, not a stage: a crop it cannot read shows no words
                log.warning("text check: crop %s not read (%s: %s)", image_bgr.shape, type(error).__name__, error)
                return ""
        return " ".join(str(line[1]) for line in result or [])


@dataclass(frozen=True)
class TextEvidence:
    """What the check reads a crop against: the reader and the near-tied candidates' texts."""

    reader: TextReader
    texts: dict[str, list[str]]

    def worth_reading(self, candidates: Iterable[str]) -> bool:
        """Whether any candidate has a word that the others lack: else reading cannot decide."""
        return any(self._unique(candidates).values())

    def choose(self, crop_bgr: np.ndarray, candidates: Iterable[str]) -> str | None:
        """The candidate whose distinguishing words the crop shows, or None (no such word, or nothing read)."""
        unique = self._unique(candidates)
        if not any(unique.values()):
            return None
        return decide_by_words(words(self.reader.read(crop_bgr)), unique)

    def _unique(self, candidates: Iterable[str]) -> dict[str, frozenset[str]]:
        return distinguishing({sku: self.texts.get(sku, []) for sku in candidates})


def crops_to_read(
    candidates: Sequence[Iterable[str]], texts: TextSource, reader: TextReader, max_crops: int
) -> list[TextEvidence | None]:
    """The text evidence of each crop of a tray (its candidate SKUs, best box first): for the first `max_crops`
    crops whose candidates differ in their words, None for the others. The texts are fetched only where some crop
    has candidates."""
    wanted = {sku for skus in candidates for sku in skus}
    if not wanted or max_crops == 0:
        return [None] * len(candidates)
    evidence = TextEvidence(reader, texts(wanted))
    chosen: list[TextEvidence | None] = [None] * len(candidates)
    for k, skus in enumerate(candidates):
        if max_crops and evidence.worth_reading(skus):
            chosen[k] = evidence
            max_crops -= 1
    return chosen


def load_reader(settings: TextCheckSettings) -> TextReader | None:
    return OcrReader(settings.detector_side) if settings.enabled else None
