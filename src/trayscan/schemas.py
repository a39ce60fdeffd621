"""Request and response bodies of the HTTP API. Money is Decimal, written to JSON as a string ("12.50")."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

# Always two decimals in JSON ("7.00", not "7"), whatever the Decimal's own exponent.
Money = Annotated[Decimal, PlainSerializer(lambda value: f"{value:.2f}", return_type=str, when_used="json")]
Sku = Annotated[str, Field(pattern=SKU_PATTERN, description="Stock keeping unit: letters, digits, . _ -")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
Price = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
BoxList = Annotated[list[float], Field(min_length=4, max_length=4, description="[x1, y1, x2, y2] in pixels")]


class ErrorBody(BaseModel):
    """The one error body of every 4xx/5xx answer."""

    code: str
    detail: str


# products


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    name: str = Field(min_length=1, max_length=200)
    price: Price
    currency: Currency | None = Field(None, description="Default: the store currency")


class ProductUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    price: Price | None = None
    active: bool | None = None


class ProductPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    name: str
    price: Money
    currency: str
    active: bool
    created_at: datetime
    updated_at: datetime
    image_count: int = 0


class ProductsPublic(BaseModel):
    data: list[ProductPublic]
    count: int


# enrolment


class ImageOutcome(BaseModel):
    index: int
    filename: str | None
    status: Literal["enrolled", "enrolled_whole_image"]
    image_id: int
    box: BoxList
    score: float | None = Field(
        description="Detector score of the cropped box; null when the whole photo was used"
    )


class ConfusableWarning(BaseModel):
    sku: str
    similarity: float
    message: str


class EnrolmentPublic(BaseModel):
    sku: str
    enrolled: int
    images: list[ImageOutcome]
    warnings: list[ConfusableWarning]
    gallery_version: int


class ImagePublic(BaseModel):
    id: int
    sku: str
    box: BoxList
    created_at: datetime
    url: str = Field(description="Path of the stored photo (admin token required), relative to this server")


class ImagesPublic(BaseModel):
    data: list[ImagePublic]
    count: int


class ImageDeleted(BaseModel):
    id: int
    sku: str
    gallery_version: int


class ProductDeleted(BaseModel):
    sku: str
    images_removed: int
    gallery_version: int


# checkout


class DetectionPublic(BaseModel):
    box: BoxList
    score: float
    similarity: float


class ReceiptItem(BaseModel):
    sku: str
    name: str
    unit_price: Money
    quantity: int
    line_total: Money
    detections: list[DetectionPublic]


class BestGuess(BaseModel):
    sku: str
    similarity: float


class UnrecognizedItem(BaseModel):
    box: BoxList
    score: float
    best_guess: BestGuess | None


class ReceiptPublic(BaseModel):
    receipt_id: str
    currency: str
    total: Money
    item_count: int
    items: list[ReceiptItem]
    unrecognized: list[UnrecognizedItem]
    timings_ms: dict[str, float]
    gallery_version: int


# admin session


class AdminSession(BaseModel):
    """The answer to a valid admin token."""

    ok: Literal[True] = True


# health


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    ready: bool
    components: dict[str, bool]
    gallery_version: int | None = None
    gallery_size: int | None = None
    reason: str | None = None
