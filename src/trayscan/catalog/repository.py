"""Catalog queries and writes. Each method is one transaction unless it takes a `session` to join."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trayscan.catalog.db import Database
from trayscan.catalog.idempotency import store_answer
from trayscan.catalog.models import GalleryImage, Product, Receipt
from trayscan.errors import ImageNotFoundError, ProductExistsError, ProductNotFoundError, ReceiptNotFoundError

ID_QUERY_CHUNK = 1000  # ids per IN (...) query / rows per fetch: stays under every database's parameter limit


@dataclass(frozen=True)
class NewImage:
    image_path: str
    box: tuple[float, float, float, float]
    embedding: np.ndarray
    embedder: str
    source: str = "enrolment"  # or "tray": a confirmed crop of a checkout photo
    receipt_id: str | None = None  # the receipt a tray crop came from
    kiosk_size: float | None = None  # size in a kiosk-camera photo; None for another camera
    printed_text: str | None = None  # read on the product at enrolment (text check on); None: not read


@dataclass(frozen=True)
class ImageRecord:
    id: int
    sku: str
    image_path: str
    box: tuple[float, float, float, float]
    embedding: np.ndarray
    embedder: str
    created_at: datetime
    source: str = "enrolment"
    receipt_id: str | None = None
    kiosk_size: float | None = None
    printed_text: str | None = None


def _image_record(image: GalleryImage, sku: str) -> ImageRecord:
    return ImageRecord(
        id=image.id,
        sku=sku,
        image_path=image.image_path,
        box=(image.box_x1, image.box_y1, image.box_x2, image.box_y2),
        embedding=np.frombuffer(image.embedding, dtype=np.float32),
        embedder=image.embedder,
        created_at=image.created_at,
        source=image.source or "enrolment",
        receipt_id=image.receipt_id,
        kiosk_size=image.kiosk_size,
        printed_text=image.printed_text,
    )


class Catalog:
    def __init__(self, database: Database) -> None:
        self.database = database

    @classmethod
    def open(cls, url: str) -> Catalog:
        """Connect and migrate to the newest schema."""
        database = Database(url)
        database.migrate()
        return cls(database)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.database.session() as session:
            yield session

    # products

    def create_product(
        self,
        sku: str,
        name: str,
        price: Decimal,
        currency: str,
        describe: Callable[[Product], dict[str, Any]] | None = None,
    ) -> Product:
        """A new product; ProductExistsError when its SKU exists in any case (`ts0001` beside `TS0001`).
        `describe` gives the request's answer for the product, stored with it under an Idempotency-Key."""
        try:
            with self.transaction() as session:
                existing = session.scalar(select(Product.sku).where(func.upper(Product.sku) == sku.upper()))
                if existing is not None and existing != sku:
                    raise ProductExistsError(f"product {sku!r} already exists as {existing!r}")
                product = Product(sku=sku, name=name, price=price, currency=currency, active=True)
                session.add(product)
                session.flush()
                if describe is not None:
                    store_answer(session, lambda: describe(product))
        except IntegrityError as error:
            raise ProductExistsError(f"product {sku!r} already exists") from error
        return product

    def get_product(self, sku: str, session: Session | None = None) -> Product:
        if session is None:
            with self.transaction() as own_session:
                return self.get_product(sku, own_session)
        product = session.scalar(select(Product).where(Product.sku == sku))
        if product is None:
            raise ProductNotFoundError(f"unknown SKU {sku!r}")
        return product

    def list_products(self, offset: int = 0, limit: int = 100) -> tuple[list[Product], int]:
        with self.transaction() as session:
            count = session.scalar(select(func.count()).select_from(Product)) or 0
            rows = session.scalars(select(Product).order_by(Product.sku).offset(offset).limit(limit)).all()
        return list(rows), count

    def update_product(self, sku: str, changes: dict[str, Any]) -> Product:
        with self.transaction() as session:
            product = self.get_product(sku, session)
            for field, value in changes.items():
                setattr(product, field, value)
        return product

    def delete_product(self, sku: str) -> list[ImageRecord]:
        """Delete the product and its gallery images; returns the deleted images."""
        with self.transaction() as session:
            product = self.get_product(sku, session)
            images = [_image_record(row, sku) for row in self._image_rows_of(session, product)]
            session.delete(product)
        return images

    def prices(self, skus: Iterable[str]) -> dict[str, Product]:
        with self.transaction() as session:
            rows = session.scalars(select(Product).where(Product.sku.in_(set(skus)))).all()
        return {product.sku: product for product in rows}

    # gallery images

    def add_images(self, session: Session, sku: str, images: list[NewImage]) -> list[int]:
        """Insert images inside the caller's transaction and return their new (Faiss) ids."""
        product = self.get_product(sku, session)
        rows = [
            GalleryImage(
                product_id=product.id,
                image_path=image.image_path,
                box_x1=image.box[0],
                box_y1=image.box[1],
                box_x2=image.box[2],
                box_y2=image.box[3],
                embedding=np.ascontiguousarray(image.embedding, dtype=np.float32).tobytes(),
                embedder=image.embedder,
                source=image.source,
                receipt_id=image.receipt_id,
                kiosk_size=image.kiosk_size,
                printed_text=image.printed_text,
            )
            for image in images
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]

    def _image_rows_of(self, session: Session, product: Product) -> list[GalleryImage]:
        query = select(GalleryImage).where(GalleryImage.product_id == product.id).order_by(GalleryImage.id)
        return list(session.scalars(query))

    def _image_row(self, session: Session, image_id: int) -> GalleryImage:
        row = session.get(GalleryImage, image_id)
        if row is None:
            raise ImageNotFoundError(f"unknown gallery image {image_id}")
        return row

    def get_image(self, image_id: int) -> ImageRecord:
        with self.transaction() as session:
            row = self._image_row(session, image_id)
            return _image_record(row, row.product.sku)

    def delete_image(self, image_id: int) -> ImageRecord:
        with self.transaction() as session:
            row = self._image_row(session, image_id)
            record = _image_record(row, row.product.sku)
            session.delete(row)
        return record

    def product_images(self, sku: str) -> list[ImageRecord]:
        """The gallery images of one product, in id (enrolment) order; unknown SKU: ProductNotFoundError."""
        with self.transaction() as session:
            product = self.get_product(sku, session)
            return [_image_record(row, sku) for row in self._image_rows_of(session, product)]

    def image_paths(self) -> set[str]:
        """The stored-photo path of every gallery image, relative to the image folder."""
        with self.transaction() as session:
            return set(session.scalars(select(GalleryImage.image_path)))

    def skus(self) -> set[str]:
        with self.transaction() as session:
            return set(session.scalars(select(Product.sku)))

    def image_ids(self) -> set[int]:
        with self.transaction() as session:
            return set(session.scalars(select(GalleryImage.id)))

    def images(self) -> list[ImageRecord]:
        """Every gallery image with its embedding, in id order (what a rebuild needs)."""
        with self.transaction() as session:
            rows = session.execute(
                select(GalleryImage, Product.sku).join(Product).order_by(GalleryImage.id)
            ).all()
            return [_image_record(image, sku) for image, sku in rows]

    def embedded_image_ids(self, embedder: str, dim: int) -> set[int]:
        """Ids of images whose stored embedding is `dim` floats from `embedder`, without reading the blobs."""
        with self.transaction() as session:
            return set(session.scalars(
                select(GalleryImage.id).where(
                    GalleryImage.embedder == embedder, func.length(GalleryImage.embedding) == dim * 4
                )
            ))

    def images_by_ids(self, image_ids: Iterable[int]) -> list[ImageRecord]:
        wanted = sorted({int(image_id) for image_id in image_ids})
        records: list[ImageRecord] = []
        with self.transaction() as session:
            for start in range(0, len(wanted), ID_QUERY_CHUNK):
                rows = session.execute(
                    select(GalleryImage, Product.sku).join(Product)
                    .where(GalleryImage.id.in_(wanted[start:start + ID_QUERY_CHUNK])).order_by(GalleryImage.id)
                ).all()
                records += [_image_record(image, sku) for image, sku in rows]
        return records

    def embeddings(
        self, embedder: str, dim: int, image_ids: Iterable[int] | None = None
    ) -> tuple[list[int], np.ndarray]:
        """Ids and stored embeddings of one embedder (all, or these ids), read straight into one array: no
        per-image records, so a rebuild's peak memory is about the array itself."""
        stored = (GalleryImage.embedder == embedder, func.length(GalleryImage.embedding) == dim * 4)
        if image_ids is None:
            selections = [select(GalleryImage.id, GalleryImage.embedding).where(*stored)]
        else:
            wanted = sorted({int(image_id) for image_id in image_ids})
            selections = [
                select(GalleryImage.id, GalleryImage.embedding)
                .where(*stored, GalleryImage.id.in_(wanted[start:start + ID_QUERY_CHUNK]))
                for start in range(0, len(wanted), ID_QUERY_CHUNK)
            ]
        ids: list[int] = []
        chunks: list[np.ndarray] = []
        with self.transaction() as session:
            for selection in selections:
                rows = session.execute(
                    selection.order_by(GalleryImage.id).execution_options(yield_per=ID_QUERY_CHUNK)
                )
                for part in rows.partitions():
                    chunks.append(np.frombuffer(b"".join(blob for _, blob in part), np.float32).reshape(-1, dim))
                    ids += [image_id for image_id, _ in part]
        vectors = np.concatenate(chunks) if chunks else np.zeros((0, dim), np.float32)
        return ids, vectors

    def image_counts(self) -> dict[str, int]:
        with self.transaction() as session:
            rows = session.execute(
                select(Product.sku, func.count(GalleryImage.id)).join(Product).group_by(Product.sku)
            ).all()
        return {sku: count for sku, count in rows}

    def replace_embeddings(self, embeddings: dict[int, np.ndarray], embedder: str) -> None:
        with self.transaction() as session:
            for image_id, embedding in embeddings.items():
                row = session.get(GalleryImage, image_id)
                if row is not None:
                    row.embedding = np.ascontiguousarray(embedding, dtype=np.float32).tobytes()
                    row.embedder = embedder

    def replace_boxes(
        self, boxes: dict[int, tuple[tuple[float, float, float, float], float | None, np.ndarray]], embedder: str
    ) -> None:
        """New product boxes of gallery images found again (`Enroller.rebox`): each with its kiosk size and its
        crop's embedding by `embedder`, in one transaction."""
        with self.transaction() as session:
            for image_id, (box, kiosk_size, embedding) in boxes.items():
                row = session.get(GalleryImage, image_id)
                if row is not None:
                    row.box_x1, row.box_y1, row.box_x2, row.box_y2 = box
                    row.kiosk_size = kiosk_size
                    row.embedding = np.ascontiguousarray(embedding, dtype=np.float32).tobytes()
                    row.embedder = embedder

    def active_labels(self, image_ids: Iterable[int]) -> dict[int, str]:
        """SKU of each image id whose product is active; ids of inactive or deleted products are left out."""
        wanted = {int(image_id) for image_id in image_ids}
        if not wanted:
            return {}
        with self.transaction() as session:
            rows = session.execute(
                select(GalleryImage.id, Product.sku)
                .join(Product)
                .where(GalleryImage.id.in_(wanted), Product.active.is_(True))
            ).all()
        return {image_id: sku for image_id, sku in rows}

    def _image_values_by_sku(self, column: Any, skus: Iterable[str], *conditions: Any) -> dict[str, list[Any]]:
        """One column of the gallery images of each active product among `skus` that meet the conditions, in
        image order; products with none are left out."""
        wanted = sorted({str(sku) for sku in skus})
        values: dict[str, list[Any]] = {}
        with self.transaction() as session:
            for start in range(0, len(wanted), ID_QUERY_CHUNK):
                rows = session.execute(
                    select(Product.sku, column)
                    .join(Product)
                    .where(Product.sku.in_(wanted[start : start + ID_QUERY_CHUNK]), Product.active.is_(True),
                           *conditions)
                    .order_by(GalleryImage.id)
                ).all()
                for sku, value in rows:
                    values.setdefault(sku, []).append(value)
        return values

    def sku_embeddings(self, skus: Iterable[str], embedder: str, dim: int) -> dict[str, np.ndarray]:
        """The stored gallery embeddings of each active product, by SKU (the centre check); products without
        embeddings of this embedder are left out."""
        blobs = self._image_values_by_sku(GalleryImage.embedding, skus, GalleryImage.embedder == embedder,
                                          func.length(GalleryImage.embedding) == dim * 4)
        return {sku: np.frombuffer(b"".join(rows), np.float32).reshape(-1, dim) for sku, rows in blobs.items()}

    def kiosk_sizes(self, skus: Iterable[str]) -> dict[str, list[float]]:
        """The kiosk-camera sizes of each active product's gallery images (the size check); products without
        such photos are left out."""
        sizes = self._image_values_by_sku(GalleryImage.kiosk_size, skus, GalleryImage.kiosk_size.is_not(None))
        return {sku: [float(size) for size in rows] for sku, rows in sizes.items()}

    def sku_texts(self, skus: Iterable[str]) -> dict[str, list[str]]:
        """Each active product's name and the texts read on its gallery images (the text check), by SKU; one
        transaction, so the names and texts are of one moment."""
        wanted = sorted({str(sku) for sku in skus})
        texts: dict[str, list[str]] = {}
        with self.transaction() as session:
            for start in range(0, len(wanted), ID_QUERY_CHUNK):
                read = and_(GalleryImage.product_id == Product.id, GalleryImage.printed_text.is_not(None))
                rows = session.execute(
                    select(Product.sku, Product.name, GalleryImage.printed_text)
                    .outerjoin(GalleryImage, read)
                    .where(Product.sku.in_(wanted[start : start + ID_QUERY_CHUNK]), Product.active.is_(True))
                    .order_by(Product.sku, GalleryImage.id)
                ).all()
                for sku, name, text in rows:
                    texts.setdefault(sku, [name])
                    if text is not None:
                        texts[sku].append(str(text))
        return texts

    # receipts

    def save_receipt(
        self,
        receipt_id: str,
        currency: str,
        total: Decimal,
        item_count: int,
        gallery_version: int,
        payload: dict[str, Any],
        photo_path: str | None = None,
        needs_review: bool = False,
    ) -> None:
        with self.transaction() as session:
            session.add(
                Receipt(
                    id=receipt_id,
                    currency=currency,
                    total=total,
                    item_count=item_count,
                    gallery_version=gallery_version,
                    payload=payload,
                    photo_path=photo_path,
                    needs_review=needs_review,
                )
            )
            store_answer(session, lambda: payload)  # the receipt is the checkout's answer

    def get_receipt(self, receipt_id: str) -> dict[str, Any]:
        with self.transaction() as session:
            receipt = session.get(Receipt, receipt_id)
            if receipt is None:
                raise ReceiptNotFoundError(f"unknown receipt {receipt_id!r}")
            return dict(receipt.payload)

    def close(self) -> None:
        self.database.dispose()
