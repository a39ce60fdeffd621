"""Billing: recognised boxes + catalog prices -> an itemised receipt. All money is Decimal, rounded half-up."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from trayscan.errors import CurrencyMismatchError
from trayscan.pipeline.decide import certainty
from trayscan.pipeline.recognize import Recognition, RecognizedBox
from trayscan.schemas import (
    BestGuess,
    CandidatePublic,
    CorrectionCreate,
    DetectionPublic,
    ReceiptItem,
    ReceiptPublic,
    StaffCall,
    UnrecognizedItem,
)

CENT = Decimal("0.01")


class PricedProduct(Protocol):
    sku: str
    name: str
    price: Decimal
    currency: str


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _box(box: tuple[float, float, float, float]) -> list[float]:
    return [round(float(v), 1) for v in box]


def _candidates(found: RecognizedBox) -> list[CandidatePublic]:
    return [CandidatePublic(sku=c.sku, similarity=round(c.similarity, 4)) for c in found.decision.candidates]


def _unrecognized(item: int, found: RecognizedBox) -> UnrecognizedItem:
    guess = found.decision.best_guess
    return UnrecognizedItem(
        item=item,
        box=_box(found.box),
        score=round(found.score, 4),
        best_guess=BestGuess(sku=guess.sku, similarity=round(guess.similarity, 4)) if guess else None,
        candidates=_candidates(found),
    )


def build_receipt(
    receipt_id: str,
    recognition: Recognition,
    products: Mapping[str, PricedProduct],
    store_currency: str,
    tie_margin: float = 0.0,
) -> ReceiptPublic:
    """One line per SKU (quantity = its boxes); boxes of a SKU missing from `products` become unrecognized.
    Items are numbered in the recognition's order; a line's detection is a near tie when another SKU came within
    `tie_margin` of its similarity."""
    detections: dict[str, list[DetectionPublic]] = defaultdict(list)
    unrecognized: list[UnrecognizedItem] = []
    for item, found in enumerate(recognition.boxes):
        sku = found.decision.sku
        if sku is not None and sku in products:
            detections[sku].append(
                DetectionPublic(
                    item=item,
                    box=_box(found.box),
                    score=round(found.score, 4),
                    similarity=round(found.decision.similarity, 4),
                    certainty="tie" if certainty(found.decision, tie_margin) == "tie" else "sure",
                    candidates=_candidates(found),
                )
            )
        else:
            unrecognized.append(_unrecognized(item, found))
    unit_prices = {sku: money(Decimal(products[sku].price)) for sku in detections}
    currency = _one_currency({products[sku].currency for sku in detections}, store_currency)
    names = {sku: products[sku].name for sku in detections}
    return _receipt(receipt_id, currency, detections, unit_prices, names, unrecognized, recognition.timings_ms,
                    recognition.gallery_version)


def _one_currency(currencies: set[str], store_currency: str) -> str:
    if len(currencies) > 1:
        raise CurrencyMismatchError(f"the tray mixes products priced in {', '.join(sorted(currencies))}")
    return currencies.pop() if currencies else store_currency


def _receipt(
    receipt_id: str,
    currency: str,
    detections: Mapping[str, list[DetectionPublic]],
    unit_prices: Mapping[str, Decimal],
    names: Mapping[str, str],
    unrecognized: list[UnrecognizedItem],
    timings_ms: dict[str, float],
    gallery_version: int,
    photo_kept: bool = False,
) -> ReceiptPublic:
    items: list[ReceiptItem] = []
    for sku in sorted(detections):
        boxes = sorted(detections[sku], key=lambda d: d.item)
        items.append(
            ReceiptItem(
                sku=sku,
                name=names[sku],
                unit_price=unit_prices[sku],
                quantity=len(boxes),
                line_total=money(unit_prices[sku] * len(boxes)),
                detections=boxes,
            )
        )
    return ReceiptPublic(
        receipt_id=receipt_id,
        currency=currency,
        total=money(sum((item.line_total for item in items), Decimal("0"))),
        item_count=sum(item.quantity for item in items),
        items=items,
        unrecognized=sorted(unrecognized, key=lambda u: u.item),
        timings_ms=timings_ms,
        gallery_version=gallery_version,
        photo_kept=photo_kept,
    )


def corrected_receipt(
    receipt: ReceiptPublic, correction: CorrectionCreate, products: Mapping[str, PricedProduct]
) -> ReceiptPublic:
    """The receipt with one item set to the customer's SKU (priced from `products` if the SKU is not on it yet,
    at the receipt's price if it is), or moved to the unrecognized items with a call for staff."""
    detections: dict[str, list[DetectionPublic]] = defaultdict(list)
    unit_prices = {line.sku: line.unit_price for line in receipt.items}
    names: dict[str, str] = {line.sku: line.name for line in receipt.items}
    unrecognized = [u for u in receipt.unrecognized if u.item != correction.item]
    moved: DetectionPublic | UnrecognizedItem | None = next(
        (u for u in receipt.unrecognized if u.item == correction.item), None
    )
    for line in receipt.items:
        for detection in line.detections:
            if detection.item == correction.item:
                moved = detection
            else:
                detections[line.sku].append(detection)
    if moved is None:
        raise KeyError(correction.item)
    if isinstance(correction, StaffCall):
        unrecognized.append(
            UnrecognizedItem(
                item=moved.item, box=moved.box, score=moved.score, candidates=moved.candidates,
                best_guess=moved.best_guess if isinstance(moved, UnrecognizedItem) else None, staff_requested=True,
            )
        )
    else:
        sku = correction.sku
        if sku not in unit_prices:
            unit_prices[sku] = money(Decimal(products[sku].price))
            names[sku] = products[sku].name
        similarity = next((c.similarity for c in moved.candidates if c.sku == sku), 0.0)
        detections[sku].append(
            DetectionPublic(item=moved.item, box=moved.box, score=moved.score, similarity=similarity,
                            certainty="corrected", candidates=moved.candidates)
        )
    added = set(detections) - {line.sku for line in receipt.items}
    currencies = ({receipt.currency} if receipt.items else set()) | {products[sku].currency for sku in added}
    currency = _one_currency(currencies, receipt.currency)
    return _receipt(receipt.receipt_id, currency, detections, unit_prices, names, unrecognized, receipt.timings_ms,
                    receipt.gallery_version, receipt.photo_kept)
