"""The text check: printed words decide between near-tied siblings (pipeline/text_check.py)."""

from __future__ import annotations

import cv2
import numpy as np

from trayscan.config import SiblingCheckSettings
from trayscan.pipeline.decide import Decision
from trayscan.pipeline.search import Neighbour
from trayscan.pipeline.siblings import check_siblings
from trayscan.pipeline.text_check import (
    OcrReader,
    TextEvidence,
    crops_to_read,
    decide_by_words,
    distinguishing,
    words,
)

CROP = np.full((40, 40, 3), 255, np.uint8)
TEXTS = {"A": ["Sunny Cherry 125g"], "B": ["Sunny Cherry 200 g", "SUNNY cherry 200g"], "C": ["Sunny Lemon 125g"]}


class FakeReader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.calls = 0

    def read(self, image_bgr: np.ndarray) -> str:
        self.calls += 1
        return self.text


def test_words_are_lower_case_tokens_with_pack_sizes_kept_whole() -> None:
    assert words("森猫 Cherry 250 ml, 1.5L x") == {"森猫", "cherry", "250ml", "1.5l"}
    assert words("LEM0N 100g") == {"lemon", "100g"}


def test_only_words_no_other_candidate_has_distinguish() -> None:
    unique = distinguishing(TEXTS)
    assert unique == {"A": set(), "B": {"200g"}, "C": {"lemon"}}


def test_one_candidate_with_the_most_words_read_wins_and_ties_decide_nothing() -> None:
    unique = {"A": frozenset({"125g"}), "B": frozenset({"200g"}), "C": frozenset({"lemon"})}
    assert decide_by_words(frozenset({"sunny", "200g"}), unique) == "B"
    assert decide_by_words(frozenset({"sunny"}), unique) is None
    assert decide_by_words(frozenset({"200g", "lemon"}), unique) is None


def test_a_tray_reads_its_first_crops_whose_candidates_differ_in_words() -> None:
    asked: list[set[str]] = []

    known = {**TEXTS, "X": ["Cherry"], "Y": ["cherry"]}

    def texts(skus):
        asked.append(set(skus))
        return {sku: known[sku] for sku in skus}

    reader = FakeReader("lemon")
    candidates = [[], ["X", "Y"], ["A", "C"], ["B", "C"], ["A", "C"]]  # X and Y: no word tells them apart
    chosen = crops_to_read(candidates, texts, reader, max_crops=2)
    assert [evidence is not None for evidence in chosen] == [False, False, True, True, False]
    assert asked == [{"A", "B", "C", "X", "Y"}] and reader.calls == 0  # nothing read before the check asks
    assert crops_to_read([[], []], texts, reader, max_crops=2) == [None, None] and len(asked) == 1


def test_candidates_with_the_same_words_are_not_read() -> None:
    reader = FakeReader("cherry")
    evidence = TextEvidence(reader, {"A": ["Cherry"], "B": ["cherry"]})
    assert not evidence.worth_reading(["A", "B"])
    assert evidence.choose(CROP, ["A", "B"]) is None and reader.calls == 0


def test_a_word_read_overrides_the_embedding_among_near_tied_siblings() -> None:
    neighbours = [Neighbour(1, "A", 0.90), Neighbour(2, "B", 0.88), Neighbour(3, "A", 0.85)]
    decision = Decision("A", 0.90, neighbours[0])
    check = SiblingCheckSettings()
    text = TextEvidence(FakeReader("SUNNY CHERRY 200g"), TEXTS)
    checked = check_siblings(None, CROP, decision, neighbours, check, threshold=0.5, text=text)
    assert (checked.sku, checked.similarity) == ("B", 0.88)
    unread = TextEvidence(FakeReader("SUNNY"), TEXTS)
    assert check_siblings(None, CROP, decision, neighbours, check, threshold=0.5, text=unread).sku == "A"


def test_the_ocr_reads_a_printed_flavour_and_pack_size() -> None:
    label = np.full((160, 480, 3), 255, np.uint8)
    cv2.putText(label, "LEMON 330ml", (20, 100), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (20, 20, 20), 5, cv2.LINE_AA)
    read = words(OcrReader(detector_side=320).read(label))
    assert {"lemon", "330ml"} <= read


def test_a_crop_the_ocr_cannot_take_reads_as_no_words() -> None:
    reader = OcrReader(detector_side=320)
    assert reader.read(np.zeros((3000, 20, 3), np.uint8)) == ""  # its resize fails on such a sliver
    assert reader.read(np.zeros((1, 1, 3), np.uint8)) == ""
