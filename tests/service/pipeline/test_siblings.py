"""The sibling check: candidates among near-tied SKUs, and geometric verification on labels that differ only by
their pack-size print."""

from __future__ import annotations

import numpy as np
import pytest

from trayscan.config import SiblingCheckSettings
from trayscan.pipeline.decide import Decision, decide, redecide, sibling_candidates
from trayscan.pipeline.search import Neighbour
from trayscan.pipeline.siblings import DetailView, check_siblings, check_tray, detail_view, pick_sibling

from ..builders import sibling_labels, turned_photo

SIDE = 320


@pytest.fixture(scope="module")
def labels() -> dict[str, np.ndarray]:
    return sibling_labels()


@pytest.fixture(scope="module")
def gallery(labels: dict[str, np.ndarray]) -> dict[str, list[DetailView]]:
    """Two enrolment photos per pack size, each lit and turned its own way."""
    return {
        sku: [
            detail_view(turned_photo(label, angle=5, scale=1.0, gain=1.0), SIDE),
            detail_view(turned_photo(label, angle=-8, scale=0.9, gain=0.9), SIDE),
        ]
        for sku, label in labels.items()
    }


@pytest.mark.parametrize("sku", ["TS0068", "TS0069", "TS0070"])
def test_pick_sibling_reads_the_pack_size_of_a_turned_darker_item(
    sku: str, labels: dict[str, np.ndarray], gallery: dict[str, list[DetailView]]
) -> None:
    query = detail_view(turned_photo(labels[sku], angle=137, scale=0.8, gain=0.75), SIDE)
    scores = pick_sibling(query, gallery)
    assert scores is not None and set(scores) == set(gallery)
    assert max(scores, key=lambda s: scores[s]) == sku, scores


def test_pick_sibling_cannot_tell_with_one_candidate_or_an_unrelated_design(
    labels: dict[str, np.ndarray], gallery: dict[str, list[DetailView]]
) -> None:
    query = detail_view(turned_photo(labels["TS0069"], angle=30, scale=0.8, gain=1.0), SIDE)
    assert pick_sibling(query, {"TS0069": gallery["TS0069"]}) is None
    # A blank photo has no keypoints: it cannot be aligned, so the check keeps the embedding's answer.
    blank = detail_view(np.full((200, 300, 3), 255, np.uint8), SIDE)
    assert pick_sibling(query, {"TS0069": gallery["TS0069"], "OTHER": [blank]}) is None


def near(sku: str, similarity: float, image_id: int) -> Neighbour:
    return Neighbour(image_id=image_id, sku=sku, similarity=similarity)


NEIGHBOURS = [
    near("A", 0.93, 1), near("B", 0.91, 2), near("A", 0.90, 3), near("C", 0.86, 4), near("B", 0.85, 5),
    near("D", 0.70, 6), near("A", 0.60, 7),
]


def test_sibling_candidates_are_the_rivals_within_the_margin_with_their_closest_images() -> None:
    decision = decide(NEIGHBOURS[:5], threshold=0.8)
    assert decision.sku == "A"
    found = sibling_candidates(NEIGHBOURS, decision, margin=0.1, threshold=0.8, max_skus=4, per_sku=2)
    assert found == {"A": [1, 3], "B": [2, 5], "C": [4]}
    # The threshold bounds the rivals too; the SKU cap keeps the closest ones.
    assert sibling_candidates(NEIGHBOURS, decision, 0.1, 0.88, 4, 2) == {"A": [1, 3], "B": [2, 5]}
    assert sibling_candidates(NEIGHBOURS, decision, 0.5, 0.0, 2, 5) == {"A": [1, 3, 7], "B": [2, 5]}


def test_no_sibling_candidates_without_a_close_rival_or_a_decision() -> None:
    decision = decide(NEIGHBOURS[:5], threshold=0.8)
    assert sibling_candidates(NEIGHBOURS, decision, margin=0.01, threshold=0.8, max_skus=4, per_sku=2) == {}
    unrecognized = Decision(sku=None, similarity=0.93, best_guess=NEIGHBOURS[0])
    assert sibling_candidates(NEIGHBOURS, unrecognized, 0.1, 0.8, 4, 2) == {}
    # The decided SKU (the vote's winner) outside the near ties: nothing to re-check.
    outvoted = Decision(sku="D", similarity=0.7, best_guess=NEIGHBOURS[0])
    assert sibling_candidates(NEIGHBOURS, outvoted, 0.1, 0.5, 4, 2) == {}


def test_redecide_reports_the_chosen_skus_closest_similarity() -> None:
    decision = decide(NEIGHBOURS[:5], threshold=0.8)
    changed = redecide(decision, NEIGHBOURS, "B")
    assert (changed.sku, changed.similarity, changed.best_guess) == ("B", 0.91, NEIGHBOURS[0])


def test_check_siblings_turns_a_wrong_nearest_pack_size_into_the_right_one(
    labels: dict[str, np.ndarray], gallery: dict[str, list[DetailView]]
) -> None:
    views = {1: gallery["TS0068"][0], 2: gallery["TS0070"][0], 3: gallery["TS0068"][1], 4: gallery["TS0070"][1]}
    neighbours = [near("TS0068", 0.95, 1), near("TS0070", 0.94, 2), near("TS0068", 0.93, 3), near("TS0070", 0.9, 4)]
    decision = decide(neighbours, threshold=0.7)
    assert decision.sku == "TS0068"
    crop = turned_photo(labels["TS0070"], angle=-60, scale=0.85, gain=0.8)
    asked: list[int] = []

    def details(ids: object) -> dict[int, DetailView]:
        wanted = list(ids)  # type: ignore[call-overload]
        asked.extend(wanted)
        return {i: views[i] for i in wanted}

    checked = check_siblings(details, crop, decision, neighbours, SiblingCheckSettings(), threshold=0.7)
    assert checked.sku == "TS0070" and checked.similarity == 0.94
    assert sorted(asked) == [1, 2, 3, 4]
    # The right pack size leads by far: a switch margin short of its lead still lets the check overrule.
    scores = pick_sibling(detail_view(crop, SIDE), {"TS0068": [views[1], views[3]], "TS0070": [views[2], views[4]]})
    assert scores is not None
    lead = scores["TS0070"] - scores["TS0068"]
    assert lead > 0.05
    below = SiblingCheckSettings(switch_margin=lead * 0.9)
    assert check_siblings(details, crop, decision, neighbours, below, threshold=0.7).sku == "TS0070"
    above = SiblingCheckSettings(switch_margin=lead * 1.1)  # a lead this small does not overrule the embedding
    assert check_siblings(details, crop, decision, neighbours, above, threshold=0.7) == decision
    off = SiblingCheckSettings(margin=0.005)  # no rival that close: the embedding's answer stands, no work done
    asked.clear()
    assert check_siblings(details, crop, decision, neighbours, off, threshold=0.7) == decision and asked == []


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_a_trays_crops_checked_side_by_side_keep_their_order_and_answers(
    labels: dict[str, np.ndarray], gallery: dict[str, list[DetailView]], threads: int
) -> None:
    views = {1: gallery["TS0068"][0], 2: gallery["TS0070"][0], 3: gallery["TS0068"][1], 4: gallery["TS0070"][1]}
    tied = [near("TS0068", 0.95, 1), near("TS0070", 0.94, 2), near("TS0068", 0.93, 3), near("TS0070", 0.9, 4)]
    alone = [near("TS0069", 0.95, 9)]  # no rival: left as decided
    truth = ["TS0070", "TS0068", "TS0069", "TS0070", "TS0068"]
    crops = [turned_photo(labels[sku], angle=40.0 * k - 60, scale=0.85, gain=0.8) for k, sku in enumerate(truth)]
    rows = [alone if sku == "TS0069" else tied for sku in truth]
    decisions = [decide(row, threshold=0.7) for row in rows]

    def details(ids: object) -> dict[int, DetailView]:
        return {i: views[i] for i in ids}  # type: ignore[attr-defined]

    checked = check_tray(details, crops, decisions, rows, SiblingCheckSettings(threads=threads), 0.7, [None] * 5)
    assert [d.sku for d in checked] == truth


def test_a_tray_is_checked_in_its_own_thread_when_every_helper_is_busy(
    labels: dict[str, np.ndarray], gallery: dict[str, list[DetailView]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import trayscan.pipeline.siblings as siblings

    busy = ThreadPoolExecutor(max_workers=1)
    release = threading.Event()
    busy.submit(release.wait)  # another request's long check holds the only helper
    monkeypatch.setattr(siblings, "_helpers", lambda: busy)
    views = {1: gallery["TS0068"][0], 2: gallery["TS0070"][0]}
    tied = [near("TS0068", 0.95, 1), near("TS0070", 0.94, 2)]
    crops = [turned_photo(labels["TS0070"], angle=a, scale=0.85, gain=0.8) for a in (-60, 20)]
    decisions = [decide(tied, threshold=0.7)] * 2
    done = []
    worker = threading.Thread(target=lambda: done.append(check_tray(
        lambda ids: {i: views[i] for i in ids}, crops, decisions, [tied, tied], SiblingCheckSettings(threads=3),
        0.7, [None, None])))
    worker.start()
    worker.join(timeout=30)
    release.set()
    busy.shutdown()
    assert done and [d.sku for d in done[0]] == ["TS0070", "TS0070"]
