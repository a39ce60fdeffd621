"""The size check: pack sizes of one design told apart by the item's size in the kiosk camera's photo."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trayscan.config import SiblingCheckSettings, SizeCheckSettings
from trayscan.pipeline.decide import Decision
from trayscan.pipeline.search import Neighbour
from trayscan.pipeline.siblings import check_siblings
from trayscan.pipeline.size_check import SizeEvidence, relative_size, size_scores

# Kiosk sizes of three pack sizes of one design, 15 % apart, two photos each.
ENROLLED = {"S": [0.100, 0.104], "M": [0.115, 0.117], "L": [0.132, 0.130]}


def test_relative_size_is_the_same_at_any_resolution() -> None:
    assert relative_size((10, 20, 110, 70), (960, 1280)) == pytest.approx(math.sqrt(100 * 50) / 1280)
    assert relative_size((5, 10, 55, 35), (480, 640)) == pytest.approx(relative_size((10, 20, 110, 70), (960, 1280)))
    assert relative_size((5, 5, 5, 40), (100, 100)) == 0.0


@pytest.mark.parametrize(("crop_size", "expected"), [(0.101, "S"), (0.118, "M"), (0.135, "L")])
def test_size_scores_favour_the_nearest_enrolled_size(crop_size: float, expected: str) -> None:
    scores = size_scores(crop_size, ENROLLED, spread=0.1)
    assert scores is not None and max(scores, key=lambda sku: scores[sku]) == expected
    assert max(scores.values()) <= 0.0


def test_size_cannot_tell_when_a_candidate_has_no_kiosk_photo() -> None:
    assert size_scores(0.11, {"S": [0.1], "M": []}, spread=0.1) is None
    assert size_scores(0.0, ENROLLED, spread=0.1) is None


def _neighbours(similarities: dict[str, float]) -> list[Neighbour]:
    ordered = sorted(similarities.items(), key=lambda kv: -kv[1])
    return [Neighbour(image_id=i, sku=sku, similarity=s) for i, (sku, s) in enumerate(ordered)]


def test_size_evidence_turns_a_near_tie_to_the_right_pack_size() -> None:
    neighbours = _neighbours({"M": 0.83, "S": 0.82, "L": 0.80})
    decision = Decision("M", 0.83, neighbours[0])
    size = SizeEvidence(0.131, ENROLLED, SizeCheckSettings(weight=0.5, spread=0.2))
    checked = check_siblings(None, np.zeros((8, 8, 3), np.uint8), decision, neighbours, SiblingCheckSettings(),
                             threshold=0.5, size=size)
    assert checked.sku == "L" and checked.similarity == pytest.approx(0.80)
    # Without size evidence (or with a weight of 0) the embedding's answer stands.
    unchanged = check_siblings(None, np.zeros((8, 8, 3), np.uint8), decision, neighbours, SiblingCheckSettings(),
                               threshold=0.5)
    assert unchanged.sku == "M"
    weightless = SizeEvidence(0.131, ENROLLED, SizeCheckSettings(weight=0.0, spread=0.2))
    assert check_siblings(None, np.zeros((8, 8, 3), np.uint8), decision, neighbours, SiblingCheckSettings(),
                          threshold=0.5, size=weightless).sku == "M"


def test_size_evidence_does_not_overrule_a_clear_embedding_lead() -> None:
    neighbours = _neighbours({"M": 0.95, "L": 0.60})  # L is outside the sibling check's margin
    decision = Decision("M", 0.95, neighbours[0])
    size = SizeEvidence(0.131, ENROLLED, SizeCheckSettings(weight=1.0, spread=0.2))
    assert check_siblings(None, np.zeros((8, 8, 3), np.uint8), decision, neighbours, SiblingCheckSettings(),
                          threshold=0.5, size=size).sku == "M"
