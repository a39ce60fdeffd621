from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import JSONResponse

from trayscan.api.deps import MetricsDep, RunnerDep, ServicesDep, read_upload
from trayscan.api.idempotency import IdempotencyKey, fingerprint, idempotent
from trayscan.api.params import ReceiptIdPath
from trayscan.api.routes.responses import error_responses
from trayscan.schemas import ReceiptPublic

router = APIRouter(prefix="/v1", tags=["checkout"])


@router.post("/checkout", response_model=ReceiptPublic, responses=error_responses(409, 413, 415, 422, 503))
async def checkout(
    image: Annotated[UploadFile, File(description="One tray photo: JPEG, PNG or WebP")],
    services: ServicesDep,
    runner: RunnerDep,
    metrics: MetricsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    data = await read_upload(image, services.settings.limits.max_upload_bytes)

    async def work() -> ReceiptPublic:
        receipt = await runner.run(services.checkout, data)
        metrics.observe_receipt(receipt)
        return receipt

    return await idempotent(services, runner, idempotency_key, "checkout", fingerprint(data), 200, work)


@router.get("/receipts/{receipt_id}", response_model=ReceiptPublic, responses=error_responses(404))
async def get_receipt(receipt_id: ReceiptIdPath, services: ServicesDep, runner: RunnerDep) -> ReceiptPublic:
    return ReceiptPublic.model_validate(await runner.run(services.catalog.get_receipt, receipt_id))
