"""`trayscan eval --feedback N1,N2,...`: what the kiosk's feedback loop (trayscan/feedback.py) is worth.

The trays are one stream. A simulated clerk works through the first N trays as a store would: each is checked out
(receipt and photo stored), and every doubtful item (near tie, unrecognized) that matches a true item (IoU >= 0.5)
is confirmed as its true SKU through the service's own review code, which adds the crop to the gallery or refuses
it as confusable; a doubtful box on no item is marked "not a product". The trays after the largest N are then
checked out without feedback and scored, after each N in turn: N = 0 is the same trays without any feedback.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trayscan.boxes import MATCH_IOU, iou_matrix
from trayscan.errors import TrayscanError
from trayscan.evaluation.data import Tray, image_path
from trayscan.evaluation.metrics import evaluate
from trayscan.evaluation.report import level_summary, pipeline_result
from trayscan.evaluation.runner import InProcess, run_trays, tray_progress
from trayscan.feedback import doubt, item_box
from trayscan.schemas import Confirmation, ReceiptPublic, Refusal
from trayscan.services import Services


@dataclass
class ClerkTally:
    confirmed: int = 0
    refused: int = 0  # confusable crops the service turned down
    not_products: int = 0
    unknown_sku: int = 0  # matched an item whose SKU is not in the catalog: dismissed


def clerk_reviews(service: Services, tray: Tray, receipt: ReceiptPublic, tally: ClerkTally) -> None:
    """Review every doubtful item of one checked-out tray with the truth, as staff would."""
    known = service.catalog.skus()
    truth_boxes = [item.box for item in tray.items]
    for item in sorted(doubt(receipt)):
        box, _ = item_box(receipt, item)
        x1, y1, x2, y2 = box
        ious = iou_matrix([(x1, y1, x2, y2)], truth_boxes)[0] if truth_boxes else np.zeros(0)
        best = int(ious.argmax()) if len(ious) else -1
        review: Confirmation | Refusal
        if best < 0 or ious[best] < MATCH_IOU:
            review = Refusal(outcome="not_product")
            tally.not_products += 1
        elif tray.items[best].sku not in known:
            review = Refusal(outcome="dismissed")
            tally.unknown_sku += 1
        else:
            review = Confirmation(outcome="confirmed", sku=tray.items[best].sku)
        try:
            service.feedback.review(receipt.receipt_id, item, review)
        except TrayscanError as error:
            if error.code != "confusable_crop":
                raise
            tally.refused += 1
            service.feedback.review(receipt.receipt_id, item, Refusal(outcome="dismissed"))
            continue
        if isinstance(review, Confirmation):
            tally.confirmed += 1


def feedback_curve(
    service: Services, trays: list[Tray], images_dir: Path, steps: list[int], quiet: bool,
    families: dict[str, str] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Results per N (pipeline_result of the test trays) and notes with the clerk's tallies."""
    largest = max(steps)
    if largest >= len(trays):
        raise ValueError(f"--feedback {largest} leaves no trays to score: the set has {len(trays)}")
    stream, test = trays[:largest], trays[largest:]
    results: dict[str, Any] = {}
    notes = [f"feedback stream: the first {largest} trays; scored: the {len(test)} trays after them, after each N"]
    tally, fed = ClerkTally(), 0
    for n in sorted(set(steps)):
        for tray in stream[fed:n]:
            try:
                receipt = service.checkout(image_path(images_dir, tray).read_bytes())
            except TrayscanError:
                continue  # a refused tray gives the clerk nothing to review
            clerk_reviews(service, tray, receipt, tally)
        fed = n
        runs = run_trays(test, images_dir, InProcess(service.recognizer), tray_progress(quiet), f"after N={n}")
        report = evaluate(test, [run.predictions for run in runs], families=families)
        name = f"feedback N={n}"
        print(f"{name}: {level_summary(report.overall)}", file=sys.stderr)
        results[name] = pipeline_result(report, test, runs)
        notes.append(
            f"N={n}: {tally.confirmed} crops confirmed into the gallery, {tally.refused} refused as confusable, "
            f"{tally.not_products} boxes marked not a product, {tally.unknown_sku} items of SKUs not enrolled"
        )
    return results, notes
