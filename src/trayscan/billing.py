"""Billing: recognised boxes + catalog prices -> an itemised receipt. All money is Decimal, rounded half-up."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from trayscan.errors import CurrencyMismatchError
from trayscan.pipeline.recognize import Recognition, RecognizedBox
from trayscan.schemas import BestGuess, DetectionPublic, ReceiptItem, ReceiptPublic, UnrecognizedItem

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


def _unrecognized(found: RecognizedBox) -> UnrecognizedItem:
    guess = found.decision.best_guess
    return UnrecognizedItem(
        box=_box(found.box),
        score=round(found.score, 4),
        best_guess=BestGuess(sku=guess.sku, similarity=round(guess.similarity, 4)) if guess else None,
    )


def build_receipt(
    receipt_id: str, recognition: Recognition, products: Mapping[str, PricedProduct], store_currency: str
) -> ReceiptPublic:
    """One line per SKU (quantity = its boxes); boxes of a SKU missing from `products` become unrecognized."""
    by_sku: dict[str, list[RecognizedBox]] = defaultdict(list)
    unrecognized: list[UnrecognizedItem] = []
    for found in recognition.boxes:
        sku = found.decision.sku
        if sku is not None and sku in products:
            by_sku[sku].append(found)
        else:
            unrecognized.append(_unrecognized(found))

    currencies = {products[sku].currency for sku in by_sku}
    if len(currencies) > 1:
        raise CurrencyMismatchError(f"the tray mixes products priced in {', '.join(sorted(currencies))}")
    currency = currencies.pop() if currencies else store_currency

    items: list[ReceiptItem] = []
    for sku in sorted(by_sku):
        product, boxes = products[sku], by_sku[sku]
        unit_price = money(Decimal(product.price))
        items.append(
            ReceiptItem(
                sku=sku,
                name=product.name,
                unit_price=unit_price,
                quantity=len(boxes),
                line_total=money(unit_price * len(boxes)),
                detections=[
                    DetectionPublic(
                        box=_box(b.box), score=round(b.score, 4), similarity=round(b.decision.similarity, 4)
                    )
                    for b in boxes
                ],
            )
        )
    return ReceiptPublic(
        receipt_id=receipt_id,
        currency=currency,
        total=money(sum((item.line_total for item in items), Decimal("0"))),
        item_count=sum(item.quantity for item in items),
        items=items,
        unrecognized=unrecognized,
        timings_ms=recognition.timings_ms,
        gallery_version=recognition.gallery_version,
    )
