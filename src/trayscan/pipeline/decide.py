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
