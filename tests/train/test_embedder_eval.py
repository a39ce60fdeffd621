"""embedder-eval --sibling-check: the nearest SKU re-ranked among near ties by the service's sibling check."""

import numpy as np

from tests.service.builders import sibling_labels, turned_photo
from trayscan.train.embedder_eval import sibling_checked_top1


def test_sibling_check_answers_the_pack_size_printed_on_the_query() -> None:
    labels = sibling_labels()  # TS0068 70g, TS0069 100g, TS0070 150g
    skus = sorted(labels)
    gallery = [turned_photo(labels[sku], angle=4, scale=1.0, gain=1.0) for sku in skus]
    gallery_labels = np.array([68, 69, 70])
    queries = [turned_photo(labels[sku], angle=200, scale=0.8, gain=0.85) for sku in skus]
    # An embedding that ranks 70g first for every query, the others within the margin.
    similarities = np.array([[0.95, 0.9, 0.9]] * 3)
    assert sibling_checked_top1(queries, gallery_labels, gallery, similarities).tolist() == [68, 69, 70]
    # No rival within the margin: the nearest answer stands.
    far = np.array([[0.95, 0.5, 0.5]] * 3)
    assert sibling_checked_top1(queries, gallery_labels, gallery, far).tolist() == [68, 68, 68]
