"""The loaded parts of the service and the use cases that combine them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from trayscan.billing import build_receipt
from trayscan.catalog.idempotency import IdempotencyRecords
from trayscan.catalog.repository import Catalog
from trayscan.config import Settings
from trayscan.feedback import Feedback, doubt
from trayscan.gallery.enrolment import Enroller
from trayscan.gallery.index import GalleryIndex
from trayscan.pipeline.recognize import Recognizer
from trayscan.schemas import ReceiptPublic


@dataclass
class Services:
    settings: Settings
    catalog: Catalog
    gallery: GalleryIndex
    recognizer: Recognizer
    enroller: Enroller
    idempotency: IdempotencyRecords
    feedback: Feedback
    notes: list[str] = field(default_factory=list)

    def checkout(self, image: bytes) -> ReceiptPublic:
        """Recognise a tray photo, price it and store the receipt."""
        recognition = self.recognizer.recognize(image)
        skus = {found.decision.sku for found in recognition.boxes if found.decision.sku is not None}
        products = self.catalog.prices(skus)
        receipt = build_receipt(
            uuid.uuid4().hex, recognition, products, self.settings.currency, self.settings.feedback.tie_margin
        )
        photo_path = self.feedback.keep_photo(receipt.receipt_id, image)
        receipt.photo_kept = photo_path is not None
        self.catalog.save_receipt(
            receipt.receipt_id,
            receipt.currency,
            receipt.total,
            receipt.item_count,
            receipt.gallery_version,
            receipt.model_dump(mode="json"),
            photo_path=photo_path,
            needs_review=bool(doubt(receipt)),
        )
        return receipt
