"""Decide stage: one SKU per crop by a similarity-weighted vote among the neighbours over the threshold."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from trayscan.pipeline.search import Neighbour


@dataclass(frozen=True)
class Decision:
    sku: str | None  # None: unrecognized
    similarity: float  # best similarity of the decided SKU, or of the best guess
    best_guess: Neighbour | None  # nearest neighbour, reported for unrecognized crops
    # The closest gallery image of each of the most similar SKUs, best first: what a customer or clerk chooses
    # among when the answer is doubtful (`sku_candidates`).
    candidates: tuple[Neighbour, ...] = ()


def decide(neighbours: list[Neighbour], threshold: float) -> Decision:
    best = neighbours[0] if neighbours else None
    votes: dict[str, float] = defaultdict(float)
    top: dict[str, float] = {}
    for neighbour in neighbours:
        if neighbour.similarity >= threshold:
            votes[neighbour.sku] += neighbour.similarity
            top[neighbour.sku] = max(top.get(neighbour.sku, -1.0), neighbour.similarity)
    if not votes:
        return Decision(sku=None, similarity=best.similarity if best else 0.0, best_guess=best)
    # Ties in the vote go to the SKU with the closest single neighbour.
    winner = max(votes, key=lambda sku: (votes[sku], top[sku]))
    return Decision(sku=winner, similarity=top[winner], best_guess=best)


def sku_candidates(neighbours: list[Neighbour], count: int = 3) -> tuple[Neighbour, ...]:
    """The closest neighbour of each of the `count` most similar SKUs, best first."""
    seen: dict[str, Neighbour] = {}
    for neighbour in neighbours:  # best first
        if neighbour.sku not in seen:
            seen[neighbour.sku] = neighbour
            if len(seen) == count:
                break
    return tuple(seen.values())


def certainty(decision: Decision, tie_margin: float) -> str:
    """"unrecognized"; "tie" when another SKU's closest image comes within `tie_margin` of the decided SKU's;
    else "sure"."""
    if decision.sku is None:
        return "unrecognized"
    rivals = [c for c in decision.candidates if c.sku != decision.sku]
    return "tie" if rivals and rivals[0].similarity >= decision.similarity - tie_margin else "sure"


def sibling_candidates(
    neighbours: list[Neighbour], decision: Decision, margin: float, threshold: float, max_skus: int, per_sku: int
) -> dict[str, list[int]]:
    """SKUs the sibling check chooses among, each with its closest gallery images (best first): the decided SKU
    and every SKU whose closest image is within `margin` of the best similarity (and over the threshold).
    Empty when there is nothing to choose: an unrecognized crop, or no rival close enough."""
    if decision.sku is None or not neighbours:
        return {}
    floor = max(neighbours[0].similarity - margin, threshold)
    skus: list[str] = []
    for neighbour in neighbours:  # best first
        if neighbour.similarity < floor:
            break
        if neighbour.sku not in skus and len(skus) < max_skus:
            skus.append(neighbour.sku)
    if decision.sku not in skus or len(skus) < 2:
        return {}
    images: dict[str, list[int]] = {sku: [] for sku in skus}
    for neighbour in neighbours:
        chosen = images.get(neighbour.sku)
        if chosen is not None and len(chosen) < per_sku:
            chosen.append(neighbour.image_id)
    return images


def redecide(decision: Decision, neighbours: list[Neighbour], sku: str) -> Decision:
    """The decision with the SKU the sibling check chose; its similarity is that SKU's closest image."""
    similarity = max(n.similarity for n in neighbours if n.sku == sku)
    return Decision(sku=sku, similarity=similarity, best_guess=decision.best_guess, candidates=decision.candidates)
