from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from trayscan.api.deps import RunnerDep, ServicesDep
from trayscan.api.params import SkuPath
from trayscan.api.routes.responses import error_responses
from trayscan.catalog.models import Product
from trayscan.schemas import INT64_MAX, ProductPublic, ProductsPublic

router = APIRouter(prefix="/v1/products", tags=["products"])


def product_public(product: Product, image_count: int) -> ProductPublic:
    return ProductPublic.model_validate(product).model_copy(update={"image_count": image_count})


@router.get("", response_model=ProductsPublic)
async def list_products(
    services: ServicesDep,
    runner: RunnerDep,
    offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ProductsPublic:
    products, count = await runner.run(services.catalog.list_products, offset, limit)
    image_counts = await runner.run(services.catalog.image_counts)
    return ProductsPublic(data=[product_public(p, image_counts.get(p.sku, 0)) for p in products], count=count)


@router.get("/{sku}", response_model=ProductPublic, responses=error_responses(404))
async def get_product(sku: SkuPath, services: ServicesDep, runner: RunnerDep) -> ProductPublic:
    product = await runner.run(services.catalog.get_product, sku)
    image_counts = await runner.run(services.catalog.image_counts)
    return product_public(product, image_counts.get(sku, 0))
