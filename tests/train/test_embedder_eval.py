"""embedder-eval --sibling-check: the nearest SKU re-ranked among near ties by the service's sibling check."""

import numpy as np

from tests.service.builders import sibling_labels, turned_photo
from trayscan.train.embedder_eval import checked_top1


def test_sibling_check_answers_the_pack_size_printed_on_the_query() -> None:
    labels = sibling_labels()  # TS0068 70g, TS0069 100g, TS0070 150g
    skus = sorted(labels)
    gallery = [turned_photo(labels[sku], angle=4, scale=1.0, gain=1.0) for sku in skus]
    gallery_labels = np.array([68, 69, 70])
    queries = [turned_photo(labels[sku], angle=200, scale=0.8, gain=0.85) for sku in skus]
    # An embedding that ranks 70g first for every query, the others within the margin.
    similarities = np.array([[0.95, 0.9, 0.9]] * 3)
    assert checked_top1(queries, gallery_labels, gallery, similarities).tolist() == [68, 69, 70]
    # No rival within the margin: the nearest answer stands.
    far = np.array([[0.95, 0.5, 0.5]] * 3)
    assert checked_top1(queries, gallery_labels, gallery, far).tolist() == [68, 68, 68]


def test_size_check_answers_the_pack_size_the_crop_measures() -> None:
    from trayscan.config import SizeCheckSettings

    gallery_labels = np.array([1, 2, 3])
    gallery_sizes = np.array([0.10, 0.115, np.nan], np.float32)  # SKU 3 has no kiosk photo
    similarities = np.array([[0.9, 0.89, 0.1], [0.9, 0.89, 0.1], [0.9, 0.1, 0.89]])
    query_sizes = np.array([0.116, 0.10, 0.13], np.float32)
    blank = [np.zeros((8, 8, 3), np.uint8)] * 3
    top1 = checked_top1(blank, gallery_labels, None, similarities,
                        (query_sizes, gallery_sizes, SizeCheckSettings(weight=0.5, spread=0.1)))
    # 1 and 2 near-tied: the size decides; 1 against 3 (no kiosk photo): the embedding's answer stands
    assert top1.tolist() == [2, 1, 1]
