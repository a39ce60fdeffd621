"""Which box of an enrolment photo is the product (`pipeline.enrolment_box`)."""

from __future__ import annotations

from trayscan.gallery.enrolment import product_box
from trayscan.inference.base import Detection

SHAPE = (240, 320)  # height, width: the centre is (160, 120)
PRODUCT = Detection(box=(100.0, 60.0, 220.0, 180.0), score=0.7)
LABEL = Detection(box=(130.0, 90.0, 190.0, 150.0), score=0.9)  # a part of the product, scored best
RECEIPT = Detection(box=(240.0, 10.0, 310.0, 60.0), score=0.95)  # beside the product


def test_framed_takes_the_largest_box_over_the_centre() -> None:
    box, score = product_box([RECEIPT, LABEL, PRODUCT], SHAPE, "framed")
    assert (box, score) == (PRODUCT.box, PRODUCT.score)


def test_framed_takes_the_box_nearest_the_centre_when_none_covers_it() -> None:
    left = Detection(box=(10.0, 100.0, 60.0, 150.0), score=0.9)
    right = Detection(box=(170.0, 100.0, 230.0, 150.0), score=0.6)
    assert product_box([left, right], SHAPE, "framed")[0] == right.box


def test_union_keeps_every_box() -> None:
    box, score = product_box([RECEIPT, LABEL, PRODUCT], SHAPE, "union")
    assert box == (100.0, 10.0, 310.0, 180.0) and score == RECEIPT.score


def test_a_kiosk_photo_takes_the_best_box_wherever_it_lies() -> None:
    on_tray = Detection(box=(230.0, 150.0, 300.0, 230.0), score=0.8)  # off-centre, as the customer put it
    stray = Detection(box=(140.0, 100.0, 200.0, 140.0), score=0.55)  # something weak over the centre
    assert product_box([on_tray, stray], SHAPE, "framed", camera="kiosk")[0] == on_tray.box
    assert product_box([on_tray, stray], SHAPE, "framed", camera="other")[0] == stray.box
