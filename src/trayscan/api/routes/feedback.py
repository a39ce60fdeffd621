"""The kiosk's feedback loop over HTTP (trayscan/feedback.py): the customer's choice for a doubtful item, the
candidates' thumbnails, and the staff's review queue."""

from __future__ import annotations

from typing import Annotated, Any

import cv2
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from trayscan.api.deps import RunnerDep, ServicesDep, require_admin
from trayscan.api.idempotency import IdempotencyKey, fingerprint, idempotent
from trayscan.api.params import ItemPath, ReceiptIdPath, SkuPath
from trayscan.api.rate_limit import limit_admin_writes
from trayscan.api.routes.responses import error_responses
from trayscan.schemas import (
    CorrectionCreate,
    ReceiptPublic,
    ReviewCreate,
    ReviewPublic,
    ReviewQueuePublic,
)

public = APIRouter(prefix="/v1", tags=["checkout"])
admin = APIRouter(
    prefix="/v1/admin",
    tags=["review"],
    dependencies=[Depends(require_admin), Depends(limit_admin_writes)],
    responses=error_responses(401, 403),
)
JPEG: dict[int | str, dict[str, Any]] = {200: {"content": {"image/jpeg": {}}}}
# Crops and tray photos are customers' photos: never kept by a proxy or the browser.
PRIVATE = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}


@public.post(
    "/receipts/{receipt_id}/corrections",
    response_model=ReceiptPublic,
    responses=error_responses(404, 409, 422),
)
async def correct_receipt(
    receipt_id: ReceiptIdPath,
    body: CorrectionCreate,
    services: ServicesDep,
    runner: RunnerDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The customer's answer for one doubtful item: the SKU it is (the receipt is re-billed), or a call for staff.
    Sending the same answer again changes nothing; a later answer for the same item replaces the earlier one."""

    async def work() -> ReceiptPublic:
        return await runner.run(services.feedback.correct, receipt_id, body)

    request = fingerprint(receipt_id, body.model_dump_json())
    return await idempotent(services, runner, idempotency_key, "correction", request, 200, work)


@public.get("/products/{sku}/thumbnail", response_class=Response, responses={**JPEG, **error_responses(404)})
async def product_thumbnail(sku: SkuPath, services: ServicesDep, runner: RunnerDep) -> Response:
    """A small picture of the product as enrolled, for the kiosk's choice among look-alikes."""
    data = await runner.run(services.feedback.thumbnail, sku)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "public, max-age=300"})


@admin.get("/review", response_model=ReviewQueuePublic)
async def review_queue(
    request: Request,
    services: ServicesDep,
    runner: RunnerDep,
    limit: Annotated[int, Query(ge=1, le=500, description="receipts looked at, newest first")] = 50,
) -> ReviewQueuePublic:
    """Doubtful (near tie, unrecognized) and corrected items of recent receipts that no one has reviewed yet."""
    items = await runner.run(services.feedback.queue, limit)
    for entry in items:
        if entry.photo_kept:
            entry.crop_url = request.url_for("item_crop", receipt_id=entry.receipt_id, item=entry.item).path
    return ReviewQueuePublic(data=items, count=len(items))


@admin.post(
    "/receipts/{receipt_id}/items/{item}/review",
    status_code=201,
    response_model=ReviewPublic,
    responses=error_responses(404, 409, 422),
)
async def review_item(
    receipt_id: ReceiptIdPath, item: ItemPath, body: ReviewCreate, services: ServicesDep, runner: RunnerDep
) -> ReviewPublic:
    """Confirm the item as a SKU (its crop joins that SKU's gallery images now; 409 `confusable_crop` when it
    lies among another SKU's photos), mark it not a product, or dismiss it."""
    return await runner.run(services.feedback.review, receipt_id, item, body)


@admin.get(
    "/receipts/{receipt_id}/items/{item}/crop",
    response_class=Response,
    responses={**JPEG, **error_responses(404, 409)},
)
async def item_crop(receipt_id: ReceiptIdPath, item: ItemPath, services: ServicesDep, runner: RunnerDep) -> Response:
    """The item as cut from the stored tray photo (409 `photo_not_kept` when the photo was not kept)."""
    crop = await runner.run(services.feedback.crop, receipt_id, item)
    ok, encoded = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return Response(encoded.tobytes() if ok else b"", media_type="image/jpeg", headers=PRIVATE)
