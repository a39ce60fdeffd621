from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from trayscan.billing import build_receipt, money
from trayscan.errors import CurrencyMismatchError
from trayscan.pipeline.decide import Decision
from trayscan.pipeline.recognize import Recognition, RecognizedBox
from trayscan.pipeline.search import Neighbour


@dataclass
class Item:
    sku: str
    name: str
    price: Decimal
    currency: str = "CNY"


def found(sku: str | None, similarity: float = 0.9) -> RecognizedBox:
    guess = Neighbour(1, sku or "GUESS", similarity)
    return RecognizedBox((0, 0, 10, 10), 0.8, Decision(sku, similarity, guess))


def recognition(*boxes: RecognizedBox) -> Recognition:
    return Recognition(list(boxes), {"total": 1.0}, gallery_version=3)


def test_lines_totals_and_json_money() -> None:
    products = {"A": Item("A", "Apple", Decimal("0.333")), "B": Item("B", "Bread", Decimal("12.5"))}
    receipt = build_receipt(
        "r1", recognition(found("A"), found("B"), found("A"), found("A")), products, "CNY"
    )
    assert [(i.sku, i.quantity, i.unit_price, i.line_total) for i in receipt.items] == [
        ("A", 3, Decimal("0.33"), Decimal("0.99")),
        ("B", 1, Decimal("12.50"), Decimal("12.50")),
    ]
    assert receipt.total == Decimal("13.49") and receipt.item_count == 4
    body = receipt.model_dump(mode="json")
    assert (body["total"], body["items"][1]["unit_price"], body["items"][1]["line_total"]) == (
        "13.49",
        "12.50",
        "12.50",
    )


def test_money_rounds_half_up() -> None:
    assert money(Decimal("2.675")) == Decimal("2.68") and money(Decimal("2.665")) == Decimal("2.67")


def test_unrecognized_and_unknown_skus_are_kept_apart() -> None:
    products = {"A": Item("A", "Apple", Decimal("1"))}
    receipt = build_receipt("r", recognition(found(None, 0.4), found("GONE"), found("A")), products, "CNY")
    assert [i.sku for i in receipt.items] == ["A"]
    assert [(u.best_guess.sku, u.best_guess.similarity) for u in receipt.unrecognized if u.best_guess] == [
        ("GUESS", 0.4),
        ("GONE", 0.9),
    ]


def test_empty_receipt_uses_the_store_currency() -> None:
    receipt = build_receipt("r", recognition(), {}, "EUR")
    assert (receipt.currency, receipt.total, receipt.model_dump(mode="json")["total"]) == (
        "EUR",
        Decimal(0),
        "0.00",
    )


def test_mixed_currencies_are_refused() -> None:
    products = {"A": Item("A", "Apple", Decimal("1")), "B": Item("B", "Beer", Decimal("1"), "EUR")}
    with pytest.raises(CurrencyMismatchError, match="CNY, EUR"):
        build_receipt("r", recognition(found("A"), found("B")), products, "CNY")
