"""Store staff: products and prices, live enrolment of product photos, removal. Bearer token required."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, UploadFile

from trayscan.api.deps import RunnerDep, ServicesDep, read_upload, require_admin
from trayscan.api.routes.products import product_public
from trayscan.api.routes.responses import error_responses
from trayscan.errors import InvalidRequestError
from trayscan.gallery.enrolment import Photo
from trayscan.schemas import (
    EnrolmentPublic,
    ImageDeleted,
    ProductCreate,
    ProductDeleted,
    ProductPublic,
    ProductUpdate,
)

router = APIRouter(
    prefix="/v1/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=error_responses(401, 403),
)


@router.post("/products", status_code=201, response_model=ProductPublic, responses=error_responses(409, 422))
async def create_product(body: ProductCreate, services: ServicesDep, runner: RunnerDep) -> ProductPublic:
    currency = body.currency or services.settings.currency
    product = await runner.run(services.catalog.create_product, body.sku, body.name, body.price, currency)
    return product_public(product, 0)


@router.patch("/products/{sku}", response_model=ProductPublic, responses=error_responses(404, 422))
async def update_product(
    sku: str, body: ProductUpdate, services: ServicesDep, runner: RunnerDep
) -> ProductPublic:
    product = await runner.run(services.catalog.update_product, sku, body.model_dump(exclude_unset=True))
    image_counts = await runner.run(services.catalog.image_counts)
    return product_public(product, image_counts.get(sku, 0))


@router.delete("/products/{sku}", response_model=ProductDeleted, responses=error_responses(404))
async def delete_product(sku: str, services: ServicesDep, runner: RunnerDep) -> ProductDeleted:
    """Remove the product and its photos from the catalog and, at once, from recognition."""
    return await runner.run(services.enroller.remove_product, sku)


@router.post(
    "/products/{sku}/images",
    status_code=201,
    response_model=EnrolmentPublic,
    responses=error_responses(404, 413, 415, 422),
)
async def enrol_images(
    sku: str,
    images: Annotated[list[UploadFile], File(description="1-20 photos of the product alone")],
    services: ServicesDep,
    runner: RunnerDep,
) -> EnrolmentPublic:
    """Detect, crop and embed the product in each photo and add it to the live gallery: the next checkout sees it."""
    limits = services.settings.limits
    if len(images) > limits.max_enrol_images:
        raise InvalidRequestError(f"at most {limits.max_enrol_images} photos per request, got {len(images)}")
    photos = [Photo(upload.filename, await read_upload(upload, limits.max_upload_bytes)) for upload in images]
    return await runner.run(services.enroller.enrol, sku, photos)


@router.delete("/images/{image_id}", response_model=ImageDeleted, responses=error_responses(404))
async def delete_image(image_id: int, services: ServicesDep, runner: RunnerDep) -> ImageDeleted:
    return await runner.run(services.enroller.remove_image, image_id)
