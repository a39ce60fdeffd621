"""SQLAlchemy 2 tables. Schema changes go through an Alembic migration in `catalog/migrations/versions/`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# SQLite only autoincrements an INTEGER primary key; elsewhere the Faiss id column is a 64-bit integer.
FaissId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in UTC on every database: SQLite keeps no time zone and hands back naive values, which are UTC
    here (every value is written in UTC); PostgreSQL's timestamptz is converted to UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: catalog times are time-zone aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    images: Mapped[list[GalleryImage]] = relationship(
        back_populates="product", cascade="all, delete-orphan", passive_deletes=True
    )


class GalleryImage(Base):
    """One enrolled crop. `id` is the Faiss id; the embedding is kept so the index can always be rebuilt."""

    __tablename__ = "gallery_images"
    # Never reuse an id: a deleted id stays filtered out of the live index until the next compaction.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(FaissId, primary_key=True, autoincrement=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    image_path: Mapped[str] = mapped_column(String(500))
    box_x1: Mapped[float] = mapped_column(Float)
    box_y1: Mapped[float] = mapped_column(Float)
    box_x2: Mapped[float] = mapped_column(Float)
    box_y2: Mapped[float] = mapped_column(Float)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    embedder: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # "enrolment" (a staff photo of the product) or "tray" (a crop of a checkout photo, confirmed by staff)
    source: Mapped[str] = mapped_column(String(16), default="enrolment", server_default="enrolment")
    receipt_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The product's size in a photo of the kiosk's own camera (pipeline/size_check.relative_size); NULL for
    # photos of another camera, whose scale says nothing about the pack.
    kiosk_size: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The text read on the product at enrolment when the text check is on (pipeline/text_check.py); NULL otherwise.
    printed_text: Mapped[str | None] = mapped_column(Text, nullable=True)

    product: Mapped[Product] = relationship(back_populates="images")


class Receipt(Base):
    __tablename__ = "receipts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    item_count: Mapped[int] = mapped_column(Integer)
    gallery_version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    photo_path: Mapped[str | None] = mapped_column(String(200), nullable=True)  # relative to the data folder
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), index=True)


class ReceiptCorrection(Base):
    """What the customer said about one item of a receipt: its SKU, or that staff must look."""

    __tablename__ = "receipt_corrections"

    receipt_id: Mapped[str] = mapped_column(ForeignKey("receipts.id", ondelete="CASCADE"), primary_key=True)
    item: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str | None] = mapped_column(String(64), nullable=True)
    staff: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ReceiptReview(Base):
    """The staff's outcome for one item of a receipt."""

    __tablename__ = "receipt_reviews"

    receipt_id: Mapped[str] = mapped_column(ForeignKey("receipts.id", ondelete="CASCADE"), primary_key=True)
    item: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16))  # confirmed, not_product, dismissed
    sku: Mapped[str | None] = mapped_column(String(64), nullable=True)
    image_id: Mapped[int | None] = mapped_column(FaissId, nullable=True)  # the gallery image a confirmation made
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class IdempotencyKey(Base):
    """The answer to a POST sent with an `Idempotency-Key` (`catalog/idempotency.py`); status None: in progress."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    body: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
