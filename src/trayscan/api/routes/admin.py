"""Store staff: products and prices, live enrolment of product photos, removal. Bearer token required."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from trayscan.api.deps import MetricsDep, RunnerDep, ServicesDep, read_upload, require_admin
from trayscan.api.idempotency import IdempotencyKey, fingerprint, idempotent
from trayscan.api.openapi import NEEDS_NO_SERVICES
from trayscan.api.params import ImageIdPath, SkuPath
from trayscan.api.rate_limit import limit_admin_writes
from trayscan.api.routes.products import product_public
from trayscan.api.routes.responses import error_responses
from trayscan.catalog.models import Product
from trayscan.catalog.repository import ImageRecord
from trayscan.errors import ImageNotFoundError, InvalidRequestError
from trayscan.gallery.enrolment import Camera, Photo
from trayscan.pipeline.decode import MEDIA_TYPE_OF_SUFFIX
from trayscan.schemas import (
    AdminSession,
    EnrolmentPublic,
    ImageDeleted,
    ImagePublic,
    ImagesPublic,
    ProductCreate,
    ProductDeleted,
    ProductPublic,
    ProductUpdate,
)

router = APIRouter(
    prefix="/v1/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin), Depends(limit_admin_writes)],
    responses=error_responses(401, 403),
)

# Stored photos are user uploads served from our origin: never sniffed as anything else, never kept by a proxy.
PHOTO_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}


@router.get("/session", response_model=AdminSession, openapi_extra={NEEDS_NO_SERVICES: True})
async def check_session() -> AdminSession:
    """Sign-in check of the staff page: answers only when the router's dependency accepted the token."""
    return AdminSession()


@router.post("/products", status_code=201, response_model=ProductPublic, responses=error_responses(409, 422))
async def create_product(
    body: ProductCreate, services: ServicesDep, runner: RunnerDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    currency = services.settings.currency
    if body.currency not in (None, currency):
        # One receipt has one currency: a product priced otherwise could never be billed with the others.
        raise InvalidRequestError(f"currency must be the store currency {currency}, got {body.currency}")

    async def work() -> ProductPublic:
        def describe(product: Product) -> dict[str, Any]:
            return product_public(product, 0).model_dump(mode="json")

        product = await runner.run(
            services.catalog.create_product, body.sku, body.name, body.price, currency, describe
        )
        return product_public(product, 0)

    request = fingerprint(body.model_dump_json(exclude={"currency"}))
    return await idempotent(services, runner, idempotency_key, "create_product", request, 201, work)


@router.patch("/products/{sku}", response_model=ProductPublic, responses=error_responses(404, 422))
async def update_product(
    sku: SkuPath, body: ProductUpdate, services: ServicesDep, runner: RunnerDep
) -> ProductPublic:
    product = await runner.run(services.catalog.update_product, sku, body.model_dump(exclude_unset=True))
    image_counts = await runner.run(services.catalog.image_counts)
    return product_public(product, image_counts.get(sku, 0))


@router.delete("/products/{sku}", response_model=ProductDeleted, responses=error_responses(404))
async def delete_product(sku: SkuPath, services: ServicesDep, runner: RunnerDep) -> ProductDeleted:
    """Remove the product and its photos from the catalog and, at once, from recognition."""
    return await runner.run(services.enroller.remove_product, sku)


@router.post(
    "/products/{sku}/images",
    status_code=201,
    response_model=EnrolmentPublic,
    responses=error_responses(404, 409, 413, 415, 422),
)
async def enrol_images(
    sku: SkuPath,
    images: Annotated[list[UploadFile], File(description="1-20 photos of the product alone")],
    services: ServicesDep,
    runner: RunnerDep,
    metrics: MetricsDep,
    camera: Annotated[
        Camera,
        Form(
            description="`kiosk` when the photos were taken by the kiosk's own camera, with the product on the tray: "
            "the product's size in them is kept, and tells its pack sizes apart at checkout; else `other`"
        ),
    ] = "other",
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Detect, crop and embed the product in each photo and add it to the live gallery: the next checkout sees it."""
    limits = services.settings.limits
    if len(images) > limits.max_enrol_images:
        raise InvalidRequestError(f"at most {limits.max_enrol_images} photos per request, got {len(images)}")
    photos = [Photo(upload.filename, await read_upload(upload, limits.max_upload_bytes), camera) for upload in images]

    async def work() -> EnrolmentPublic:
        enrolment = await runner.run(services.enroller.enrol, sku, photos)
        metrics.observe_enrolment(enrolment)
        return enrolment

    request = fingerprint(sku, camera, *(part for photo in photos for part in (photo.filename or "", photo.data)))
    return await idempotent(services, runner, idempotency_key, "enrol", request, 201, work)


@router.delete("/images/{image_id}", response_model=ImageDeleted, responses=error_responses(404))
async def delete_image(image_id: ImageIdPath, services: ServicesDep, runner: RunnerDep) -> ImageDeleted:
    return await runner.run(services.enroller.remove_image, image_id)


def image_public(image: ImageRecord, request: Request) -> ImagePublic:
    # A path, not an absolute URL: the staff page fetches it from its own origin, whatever proxy is in front.
    url = request.url_for("image_file", image_id=image.id).path
    return ImagePublic(
        id=image.id, sku=image.sku, box=list(image.box), created_at=image.created_at, url=url,
        source="tray" if image.source == "tray" else "enrolment", receipt_id=image.receipt_id,
        kiosk_size=None if image.kiosk_size is None else round(image.kiosk_size, 5),
        printed_text=image.printed_text,
    )


@router.get("/products/{sku}/images", response_model=ImagesPublic, responses=error_responses(404))
async def list_images(sku: SkuPath, request: Request, services: ServicesDep, runner: RunnerDep) -> ImagesPublic:
    """The stored photos of a product, in enrolment order."""
    images = await runner.run(services.catalog.product_images, sku)
    return ImagesPublic(data=[image_public(image, request) for image in images], count=len(images))


@router.get(
    "/images/{image_id}/file",
    response_class=Response,
    responses={200: {"content": dict.fromkeys(MEDIA_TYPE_OF_SUFFIX.values(), {})}, **error_responses(404)},
)
async def image_file(image_id: ImageIdPath, services: ServicesDep, runner: RunnerDep) -> Response:
    """The photo as it was uploaded (the listing's `box` says where the product is in it)."""
    path = await runner.run(services.enroller.photo_file, image_id)
    media_type = MEDIA_TYPE_OF_SUFFIX.get(path.suffix, "application/octet-stream")
    # The whole file, not a FileResponse: its Range support answers a bad Range header with plain-text 400 and
    # 416 outside the one error body (Starlette 1.10), and a photo of at most 20 MiB needs no ranges.
    try:
        data = await runner.run(path.read_bytes)
    except FileNotFoundError as error:  # deleted since photo_file looked
        raise ImageNotFoundError(f"the stored photo of gallery image {image_id} is missing") from error
    return Response(data, media_type=media_type, headers=PHOTO_HEADERS)
