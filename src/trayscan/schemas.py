"""Request and response bodies of the HTTP API. Money is Decimal, written to JSON as a string ("12.50")."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# A price as the API takes it: a decimal string, at most 10 digits before the point and 2 after.
PRICE_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
RECEIPT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"  # ids are 32 hex digits; anything else of this shape is a 404
# Ids and offsets are SQL BIGINTs: a larger number cannot name anything and is refused before the database.
INT64_MAX = 2**63 - 1
# Names are one line of printable text: no NUL (PostgreSQL refuses it in text), no other control characters, and
# something besides spaces (a name is stripped of its leading and trailing white space, any Unicode kind).
NAME_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"

# Always two decimals in JSON ("7.00", not "7"), whatever the Decimal's own exponent.
Money = Annotated[
    Decimal,
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$", "examples": ["3.50"]}, mode="serialization"),
]
Sku = Annotated[str, Field(pattern=SKU_PATTERN, description="Stock keeping unit: letters, digits, . _ -")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]


def _price_string(value: object) -> object:
    """Money comes in as a string ("3.50"): a JSON number would already have been rounded by the client."""
    if not isinstance(value, str) or re.fullmatch(PRICE_PATTERN, value) is None:
        raise ValueError('must be a decimal string such as "3.50" (at most 10 digits, 2 decimals)')
    return value


Price = Annotated[
    Decimal,
    BeforeValidator(_price_string),
    WithJsonSchema({"type": "string", "pattern": PRICE_PATTERN, "examples": ["3.50"]}, mode="validation"),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NAME_PATTERN)]
BoxList = Annotated[list[float], Field(min_length=4, max_length=4, description="[x1, y1, x2, y2] in pixels")]


class ErrorBody(BaseModel):
    """The one error body of every 4xx/5xx answer."""

    code: str
    detail: str


# products


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    name: Name
    price: Price
    currency: Currency | None = Field(None, description="The store currency; default: the store currency")


def _without_defaults(schema: dict[str, Any]) -> None:
    for field in schema.get("properties", {}).values():
        field.pop("default", None)


class ProductUpdate(BaseModel):
    """Only the fields given change; none of them can be null (leave a field out to keep it)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_without_defaults)

    # Defaults are not validated: a field left out stays None and is skipped (`exclude_unset`); an explicit
    # null is validated against the type and refused with a 422 (so the types are not Optional: mypy's ignores).
    name: Name = None  # type: ignore[assignment]
    price: Price = None  # type: ignore[assignment]
    active: bool = None  # type: ignore[assignment]


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
    source: Literal["enrolment", "tray"] = Field(
        default="enrolment", description="enrolment photo, or a staff-confirmed crop of a checkout photo"
    )
    receipt_id: str | None = Field(default=None, description="the receipt a tray crop came from")
    kiosk_size: float | None = Field(
        default=None,
        description="the product's size in this kiosk-camera photo (square root of its box's area over the photo's "
        "longer side); null for photos of another camera",
    )
    printed_text: str | None = Field(
        default=None,
        description="the text read on the product at enrolment while the text check was on; null otherwise",
    )
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


Certainty = Literal["sure", "tie", "corrected"]


class CandidatePublic(BaseModel):
    sku: str
    similarity: float


class DetectionPublic(BaseModel):
    item: int = Field(description="The item's number on this receipt (corrections name it)")
    box: BoxList
    score: float
    similarity: float
    certainty: Certainty = Field(
        description="sure; tie: another SKU came within feedback.tie_margin (the kiosk asks); corrected: the "
        "customer chose this SKU"
    )
    candidates: list[CandidatePublic] = Field(description="the most similar SKUs, best first")


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
    item: int = Field(description="The item's number on this receipt (corrections name it)")
    box: BoxList
    score: float
    best_guess: BestGuess | None
    candidates: list[CandidatePublic] = Field(description="the most similar SKUs, best first")
    staff_requested: bool = Field(default=False, description="the customer asked for staff to look at this item")


class ReceiptPublic(BaseModel):
    receipt_id: str
    currency: str
    total: Money
    item_count: int
    items: list[ReceiptItem]
    unrecognized: list[UnrecognizedItem]
    timings_ms: dict[str, float]
    gallery_version: int
    photo_kept: bool = Field(default=False, description="the tray photo is kept for staff review (feedback.keep_photos)")


ItemNumber = Annotated[int, Field(ge=0, le=10_000, description="the item's number on the receipt")]


class ChosenSku(BaseModel):
    """The customer's answer for one doubtful item: the SKU it is."""

    model_config = ConfigDict(extra="forbid")

    item: ItemNumber
    sku: Sku


class StaffCall(BaseModel):
    """The customer's answer for one doubtful item: none of the candidates, staff must look."""

    model_config = ConfigDict(extra="forbid")

    item: ItemNumber
    staff: Literal[True]


CorrectionCreate = ChosenSku | StaffCall


class Confirmation(BaseModel):
    """The item is this SKU: its crop joins the SKU's gallery images."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["confirmed"]
    sku: Sku


class Refusal(BaseModel):
    """The item is not a product (kept as a detector training example), or nothing is to be learned from it."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["not_product", "dismissed"]


ReviewCreate = Annotated[Confirmation | Refusal, Field(discriminator="outcome")]


class ReviewPublic(BaseModel):
    receipt_id: str
    item: int
    outcome: Literal["confirmed", "not_product", "dismissed"]
    sku: str | None
    image_id: int | None = Field(description="the gallery image the confirmed crop became")
    gallery_version: int
    created_at: datetime


class ReviewItemPublic(BaseModel):
    """One doubtful or corrected item awaiting review."""

    receipt_id: str
    receipt_created_at: datetime
    item: int
    box: BoxList
    reason: Literal["tie", "unrecognized", "corrected", "staff_requested"]
    billed_sku: str | None = Field(description="the SKU on the receipt now (after any correction)")
    candidates: list[CandidatePublic]
    photo_kept: bool
    crop_url: str | None = Field(description="path of the item's crop (admin token required)")


class ReviewQueuePublic(BaseModel):
    data: list[ReviewItemPublic]
    count: int


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


class NotReady(Readiness):
    """The 503 of /readyz: the readiness report, with the `ErrorBody` fields every error answer has."""

    code: Literal["not_ready"] = "not_ready"
    detail: str
