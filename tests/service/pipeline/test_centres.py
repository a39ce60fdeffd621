"""The centre check: among near-tied SKUs, the crop's similarity to each SKU's centre (mean gallery embedding)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pytest

from trayscan.config import SiblingCheckSettings
from trayscan.pipeline.centres import CentreCache, CentreEvidence, unit_centres
from trayscan.pipeline.decide import Decision
from trayscan.pipeline.search import Neighbour
from trayscan.pipeline.siblings import check_siblings

CROP = np.zeros((8, 8, 3), np.uint8)


def unit(*values: float) -> np.ndarray:
    v = np.array(values, np.float32)
    return v / np.linalg.norm(v)


def test_unit_centres_are_the_normalised_means_of_each_label() -> None:
    vectors = np.stack([unit(1, 0), unit(0, 1), unit(-1, 0.1)])
    centres = unit_centres(vectors, ["A", "A", "B"])
    np.testing.assert_allclose(centres["A"], unit(1, 1), atol=1e-6)
    np.testing.assert_allclose(centres["B"], unit(-1, 0.1), atol=1e-6)


def test_a_sku_whose_photos_agree_beats_a_sibling_with_one_chance_near_photo() -> None:
    # The crop looks like A's print; one of B's photos happens to share its pose and is the nearest photo.
    crop = unit(1, 0.3, 0)
    a_photos = [unit(1, 0.1, 0.35), unit(1, 0.55, -0.3)]
    b_photos = [unit(1, 0.32, 0.06), unit(0.2, 0.3, 1), unit(0.3, -0.2, 1)]
    centres = unit_centres(np.stack(a_photos + b_photos), ["A", "A", "B", "B", "B"])
    similarities = {f"{sku}{i}": float(crop @ v) for sku, photos in (("A", a_photos), ("B", b_photos))
                    for i, v in enumerate(photos)}
    ordered = sorted(similarities.items(), key=lambda kv: -kv[1])
    neighbours = [Neighbour(image_id=k, sku=name[0], similarity=s) for k, (name, s) in enumerate(ordered)]
    assert neighbours[0].sku == "B" and neighbours[1].similarity > neighbours[0].similarity - 0.1
    decision = Decision("B", neighbours[0].similarity, neighbours[0])
    checked = check_siblings(None, CROP, decision, neighbours, SiblingCheckSettings(), threshold=0.5,
                             centre=CentreEvidence(crop, centres))
    assert checked.sku == "A" and checked.similarity == pytest.approx(max(similarities["A0"], similarities["A1"]))
    # Without a centre for every candidate the nearest photo's answer stands.
    partial = CentreEvidence(crop, {"A": centres["A"]})
    assert check_siblings(None, CROP, decision, neighbours, SiblingCheckSettings(), threshold=0.5,
                          centre=partial).sku == "B"


def test_the_cache_reads_only_unseen_skus_until_the_gallery_changes() -> None:
    stored = {"A": np.stack([unit(1, 0), unit(0, 1)]), "B": np.stack([unit(0, 1)])}
    asked: list[set[str]] = []
    version = [1]

    def embeddings(skus: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = set(skus)
        asked.append(wanted)
        return {sku: stored[sku] for sku in wanted if sku in stored}

    cache = CentreCache(embeddings, lambda: version[0])
    first = cache(["A", "NOPE"])
    assert set(first) == {"A"} and asked == [{"A", "NOPE"}]
    np.testing.assert_allclose(first["A"], unit(1, 1), atol=1e-6)
    # A is remembered; NOPE, without embeddings, is asked again (a remembered absence would outlast a reactivation)
    assert set(cache(["A", "B", "NOPE"])) == {"A", "B"} and asked[-1] == {"B", "NOPE"}
    stored["A"] = np.stack([unit(1, 0)])  # a photo of A deleted: the gallery's version moves on
    version[0] = 2
    np.testing.assert_allclose(cache(["A"])["A"], unit(1, 0), atol=1e-6)
    assert asked[-1] == {"A"}
