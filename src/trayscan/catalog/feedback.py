"""What the kiosk's feedback loop keeps in the catalog: receipts with their tray photos, the customers'
corrections and the staff's reviews (tables of migration 0005)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from trayscan.catalog.db import Database
from trayscan.catalog.idempotency import store_answer
from trayscan.catalog.models import Receipt, ReceiptCorrection, ReceiptReview, utcnow
from trayscan.errors import ReceiptNotFoundError


@dataclass(frozen=True)
class StoredReceipt:
    id: str
    created_at: datetime
    payload: dict[str, Any]
    photo_path: str | None  # relative to the data folder
    needs_review: bool


@dataclass(frozen=True)
class Review:
    outcome: str  # confirmed, not_product, dismissed
    sku: str | None
    image_id: int | None
    created_at: datetime


def _stored(receipt: Receipt) -> StoredReceipt:
    return StoredReceipt(receipt.id, receipt.created_at, dict(receipt.payload), receipt.photo_path,
                         receipt.needs_review)


class ReceiptFeedback:
    def __init__(self, database: Database) -> None:
        self.database = database

    def receipt(self, receipt_id: str) -> StoredReceipt:
        with self.database.session() as session:
            receipt = session.get(Receipt, receipt_id)
            if receipt is None:
                raise ReceiptNotFoundError(f"unknown receipt {receipt_id!r}")
            return _stored(receipt)

    def correct(
        self, receipt_id: str, item: int, sku: str | None, staff: bool, payload: dict[str, Any], total: Decimal,
        item_count: int,
    ) -> None:
        """Store the customer's answer for one item and the receipt it makes, in one transaction."""
        with self.database.session() as session:
            receipt = session.get(Receipt, receipt_id)
            if receipt is None:
                raise ReceiptNotFoundError(f"unknown receipt {receipt_id!r}")
            receipt.payload, receipt.total, receipt.item_count, receipt.needs_review = payload, total, item_count, True
            correction = session.get(ReceiptCorrection, (receipt_id, item))
            if correction is None:
                session.add(ReceiptCorrection(receipt_id=receipt_id, item=item, sku=sku, staff=staff))
            else:  # the customer changed their mind: the last answer counts
                correction.sku, correction.staff, correction.created_at = sku, staff, utcnow()
            store_answer(session, lambda: payload)  # the re-billed receipt is the request's answer

    def record_review(
        self, receipt_id: str, item: int, outcome: str, sku: str | None, image_id: int | None, still_open: bool
    ) -> Review:
        """Store the staff's outcome for one item; `still_open`: other items of the receipt await review."""
        with self.database.session() as session:
            receipt = session.get(Receipt, receipt_id)
            if receipt is None:
                raise ReceiptNotFoundError(f"unknown receipt {receipt_id!r}")
            receipt.needs_review = still_open
            row = session.get(ReceiptReview, (receipt_id, item))
            if row is None:
                row = ReceiptReview(receipt_id=receipt_id, item=item, outcome=outcome, sku=sku, image_id=image_id,
                                    created_at=utcnow())
                session.add(row)
            else:
                row.outcome, row.sku, row.image_id, row.created_at = outcome, sku, image_id, utcnow()
            return Review(row.outcome, row.sku, row.image_id, row.created_at)

    def reviews(self, receipt_id: str) -> dict[int, Review]:
        with self.database.session() as session:
            rows = session.scalars(select(ReceiptReview).where(ReceiptReview.receipt_id == receipt_id))
            return {row.item: Review(row.outcome, row.sku, row.image_id, row.created_at) for row in rows}

    def to_review(self, limit: int) -> list[StoredReceipt]:
        """Receipts with doubtful or corrected items not yet reviewed, newest first."""
        with self.database.session() as session:
            rows = session.scalars(
                select(Receipt).where(Receipt.needs_review.is_(True)).order_by(Receipt.created_at.desc()).limit(limit)
            )
            return [_stored(row) for row in rows]

    def photos_before(self, before: datetime) -> list[tuple[str, str]]:
        """(receipt id, photo path) of kept photos of receipts made before `before`."""
        with self.database.session() as session:
            rows = session.execute(
                select(Receipt.id, Receipt.photo_path).where(
                    Receipt.photo_path.is_not(None), Receipt.created_at < before
                )
            ).all()
            return [(receipt_id, path) for receipt_id, path in rows if path is not None]

    def forget_photos(self, receipt_ids: list[str]) -> None:
        with self.database.session() as session:
            session.execute(update(Receipt).where(Receipt.id.in_(receipt_ids)).values(photo_path=None))

    def kept_photo_paths(self) -> set[str]:
        with self.database.session() as session:
            return {path for path in session.scalars(select(Receipt.photo_path)) if path is not None}
