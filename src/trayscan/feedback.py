"""The kiosk learns its own camera: doubtful items are put to the customer, staff confirm them, and a confirmed
crop of the stored tray photo becomes a gallery image of its SKU at once (no retraining).

- checkout keeps the tray photo with the receipt (`feedback.keep_photos`, removed after `photo_retention_days`)
  and marks each item sure, a near tie (`feedback.tie_margin`) or unrecognized;
- `correct`: the customer's choice among the candidates (or a call for staff) re-bills the receipt;
- `queue` / `review`: the staff's review of doubtful and corrected items; only a confirmation by staff puts a
  crop into the gallery (source `tray`, with its receipt id), and a crop that lies among another SKU's photos is
  refused (`Enroller.enrol_tray_crop`). "Not a product" is kept as a detector training example.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from trayscan.billing import corrected_receipt
from trayscan.catalog.feedback import ReceiptFeedback, StoredReceipt
from trayscan.catalog.models import utcnow
from trayscan.catalog.repository import Catalog
from trayscan.config import Settings
from trayscan.errors import (
    ImageNotFoundError,
    ItemNotFoundError,
    PhotoNotKeptError,
    ProductNotFoundError,
)
from trayscan.gallery.enrolment import Enroller
from trayscan.pipeline.crop import crop_with_padding
from trayscan.pipeline.decode import image_suffix
from trayscan.pipeline.recognize import Stages
from trayscan.pipeline.size_check import relative_size
from trayscan.schemas import (
    ChosenSku,
    Confirmation,
    CorrectionCreate,
    ReceiptPublic,
    ReviewCreate,
    ReviewItemPublic,
    ReviewPublic,
)

log = logging.getLogger(__name__)


Reason = Literal["tie", "unrecognized", "corrected", "staff_requested"]


def doubt(receipt: ReceiptPublic) -> dict[int, Reason]:
    """Item number -> why it needs a look: tie, corrected, unrecognized or staff_requested."""
    reasons: dict[int, Reason] = {}
    for line in receipt.items:
        for detection in line.detections:
            if detection.certainty == "tie":
                reasons[detection.item] = "tie"
            elif detection.certainty == "corrected":
                reasons[detection.item] = "corrected"
    for item in receipt.unrecognized:
        reasons[item.item] = "staff_requested" if item.staff_requested else "unrecognized"
    return reasons


def item_box(receipt: ReceiptPublic, item: int) -> tuple[list[float], str | None]:
    """(box, SKU billed for it or None) of one item."""
    for line in receipt.items:
        for detection in line.detections:
            if detection.item == item:
                return detection.box, line.sku
    for unrecognized in receipt.unrecognized:
        if unrecognized.item == item:
            return unrecognized.box, None
    raise ItemNotFoundError(f"receipt {receipt.receipt_id} has no item {item}")


class Feedback:
    def __init__(self, settings: Settings, catalog: Catalog, stages: Stages, enroller: Enroller) -> None:
        self.settings = settings.feedback
        self.data_dir = settings.data_dir
        self.photo_dir = settings.receipt_photo_dir
        self.catalog = catalog
        self.store = ReceiptFeedback(catalog.database)
        self.stages = stages
        self.enroller = enroller

    # checkout

    def keep_photo(self, receipt_id: str, data: bytes) -> str | None:
        """Write the tray photo for a receipt about to be saved; its path relative to the data folder, or None
        when photos are not kept. Written under a temporary name and moved in whole: a crash leaves no half photo
        (an orphan is removed by `purge_photos`)."""
        if not self.settings.keep_photos:
            return None
        self.photo_dir.mkdir(parents=True, exist_ok=True)
        final = self.photo_dir / f"{receipt_id}{image_suffix(data)}"
        temporary = final.with_name(final.name + ".tmp")
        with temporary.open("wb") as handle:
            handle.write(data)
        os.replace(temporary, final)
        return str(final.relative_to(self.data_dir))

    def purge_photos(self, now: datetime | None = None) -> int:
        """Remove tray photos past their retention and photo files no receipt refers to; how many went."""
        now = now or utcnow()
        expired = self.store.photos_before(now - timedelta(days=self.settings.photo_retention_days))
        for _, path in expired:
            (self.data_dir / path).unlink(missing_ok=True)
        if expired:
            self.store.forget_photos([receipt_id for receipt_id, _ in expired])
        kept = self.store.kept_photo_paths()
        orphans = [p for p in self.photo_dir.glob("*") if str(p.relative_to(self.data_dir)) not in kept] \
            if self.photo_dir.is_dir() else []
        for orphan in orphans:
            orphan.unlink(missing_ok=True)
        return len(expired) + len(orphans)

    # the customer

    def correct(self, receipt_id: str, correction: CorrectionCreate) -> ReceiptPublic:
        """The customer's answer for one item; the re-billed receipt (stored)."""
        receipt = ReceiptPublic.model_validate(self.store.receipt(receipt_id).payload)
        item_box(receipt, correction.item)  # 404 for an item the receipt lacks
        sku = correction.sku if isinstance(correction, ChosenSku) else None
        products = self.catalog.prices({sku}) if sku is not None else {}
        if sku is not None and sku not in products:
            raise ProductNotFoundError(f"unknown or inactive SKU {sku!r}")
        corrected = corrected_receipt(receipt, correction, products)
        self.store.correct(receipt_id, correction.item, sku, sku is None,
                           corrected.model_dump(mode="json"), corrected.total, corrected.item_count)
        return corrected

    # the staff

    def queue(self, limit: int) -> list[ReviewItemPublic]:
        """Doubtful and corrected items not yet reviewed, newest receipt first."""
        items: list[ReviewItemPublic] = []
        for stored in self.store.to_review(limit):
            receipt = ReceiptPublic.model_validate(stored.payload)
            reviewed = self.store.reviews(stored.id)
            candidates = {d.item: d.candidates for line in receipt.items for d in line.detections}
            candidates |= {u.item: u.candidates for u in receipt.unrecognized}
            for item, reason in sorted(doubt(receipt).items()):
                if item in reviewed:
                    continue
                box, billed = item_box(receipt, item)
                items.append(ReviewItemPublic(
                    receipt_id=stored.id, receipt_created_at=stored.created_at, item=item, box=box,
                    reason=reason,
                    billed_sku=billed, candidates=candidates[item], photo_kept=stored.photo_path is not None,
                    crop_url=None,
                ))
        return items

    def crop(self, receipt_id: str, item: int) -> np.ndarray:
        """The item cut from the stored tray photo, as the pipeline crops it."""
        return self._cut(receipt_id, item)[0]

    def _cut(self, receipt_id: str, item: int) -> tuple[np.ndarray, float]:
        """The item's crop and its size in the tray photo (the kiosk camera's: the size check's evidence)."""
        stored = self.store.receipt(receipt_id)
        box, _ = item_box(ReceiptPublic.model_validate(stored.payload), item)
        photo = self._photo(stored)
        with self.stages.decoded(photo.read_bytes()) as image:
            x1, y1, x2, y2 = box
            crop = crop_with_padding(image, (x1, y1, x2, y2), self.stages.settings.crop_padding).copy()
            return crop, relative_size(box, image.shape)

    def photo(self, receipt_id: str) -> Path:
        return self._photo(self.store.receipt(receipt_id))

    def _photo(self, stored: StoredReceipt) -> Path:
        path = self.data_dir / stored.photo_path if stored.photo_path else None
        if path is None or not path.is_file():
            raise PhotoNotKeptError(f"the tray photo of receipt {stored.id} was not kept or has expired")
        return path

    def review(self, receipt_id: str, item: int, review: ReviewCreate) -> ReviewPublic:
        """Record the staff's outcome; a confirmation adds the item's crop to its SKU's gallery images at once."""
        stored = self.store.receipt(receipt_id)
        receipt = ReceiptPublic.model_validate(stored.payload)
        item_box(receipt, item)  # 404 for an item the receipt lacks
        image_id, sku = None, None
        if isinstance(review, Confirmation):
            sku = review.sku
            crop, kiosk_size = self._cut(receipt_id, item)
            enrolment = self.enroller.enrol_tray_crop(sku, crop, receipt_id, kiosk_size)
            image_id = enrolment.images[0].image_id
        open_items = set(doubt(receipt)) - set(self.store.reviews(receipt_id)) - {item}
        recorded = self.store.record_review(receipt_id, item, review.outcome, sku, image_id, bool(open_items))
        log.info("review", extra={"receipt_id": receipt_id, "item": item, "outcome": review.outcome,
                                  "sku": sku, "image_id": image_id})
        return ReviewPublic(receipt_id=receipt_id, item=item, outcome=review.outcome, sku=sku,
                            image_id=image_id, gallery_version=self.enroller.gallery.version,
                            created_at=recorded.created_at)

    # the kiosk's chooser

    def thumbnail(self, sku: str, side: int = 160) -> bytes:
        """A small JPEG of the product as enrolled (its first enrolment photo, cropped to the product)."""
        first = next((image for image in self.catalog.product_images(sku)
                      if image.source == "enrolment" and (self.enroller.image_dir / image.image_path).is_file()), None)
        if first is None:
            raise ImageNotFoundError(f"no enrolment photo of {sku!r}")
        with self.stages.decoded((self.enroller.image_dir / first.image_path).read_bytes()) as image:
            crop = crop_with_padding(image, first.box, 0.0)
        scale = side / max(crop.shape[:2])
        small = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])
        if not ok:
            raise ImageNotFoundError(f"the photo of {sku!r} cannot be encoded")
        return encoded.tobytes()
