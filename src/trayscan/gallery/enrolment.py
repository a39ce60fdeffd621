"""Live enrolment and removal of gallery images, keeping catalog, index and stored photos consistent.

Enrolment does all fallible work (decode, detect, crop, embed) before writing anything; the writes (photo files,
catalog rows, index vectors) then happen under the gallery lock and are undone together if one fails.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from trayscan.catalog.idempotency import store_answer
from trayscan.catalog.repository import Catalog, ImageRecord, NewImage
from trayscan.errors import ConfusableCropError, ImageNotFoundError, InvalidRequestError, TrayscanError
from trayscan.gallery.details import view_files
from trayscan.gallery.index import GalleryIndex
from trayscan.inference.base import Detection
from trayscan.pipeline.decode import image_suffix
from trayscan.pipeline.dedupe import Box, area
from trayscan.pipeline.recognize import Stages
from trayscan.pipeline.search import search_neighbours
from trayscan.pipeline.size_check import relative_size
from trayscan.progress import Progress, no_progress
from trayscan.schemas import ConfusableWarning, EnrolmentPublic, ImageDeleted, ImageOutcome, ProductDeleted

log = logging.getLogger(__name__)

Camera = Literal["kiosk", "other"]  # who took an enrolment photo: the kiosk's own camera, or any other
TEMPORARY_SUFFIX = ".tmp"  # a photo being written; never a stored photo's name
REBOX_BATCH = 32  # stored photos found again and embedded at a time


@dataclass(frozen=True)
class Photo:
    filename: str | None
    data: bytes
    camera: Camera = "other"


@dataclass(frozen=True)
class PreparedPhoto:
    photo: Photo
    box: tuple[float, float, float, float]
    score: float | None  # None: no detection, the whole photo is the crop
    shape: tuple[int, int] = (0, 0)  # the decoded photo's height and width
    printed_text: str | None = None  # read on the product when the text check is on

    def kiosk_size(self) -> float | None:
        """The product's size in a kiosk-camera photo (size check); None for another camera or no product found."""
        if self.photo.camera != "kiosk" or self.score is None:
            return None
        return relative_size(self.box, self.shape)


def union_box(detections: list[Detection]) -> Box:
    """Every box of the photo together: the product where a detector puts extra boxes on parts of it (with the first
    starter detector the best-scoring box matched the product, IoU >= 0.7, in 32 % of 405 demo enrolment photos, the
    union in 90 %), but also whatever else the photo shows."""
    return (
        min(d.box[0] for d in detections),
        min(d.box[1] for d in detections),
        max(d.box[2] for d in detections),
        max(d.box[3] for d in detections),
    )


def framed_box(detections: list[Detection], shape: tuple[int, int]) -> Detection:
    """The product a photo is framed on: the largest box over the photo's centre, else the box nearest the centre.
    The largest is the whole product where others lie on parts of it; the centre leaves out a bag or a receipt
    beside it."""
    height, width = shape
    cx, cy = width / 2, height / 2
    over_centre = [d for d in detections if d.box[0] <= cx <= d.box[2] and d.box[1] <= cy <= d.box[3]]
    if over_centre:
        return max(over_centre, key=lambda d: area(d.box))
    return min(detections, key=lambda d: ((d.box[0] + d.box[2]) / 2 - cx) ** 2 + ((d.box[1] + d.box[3]) / 2 - cy) ** 2)


def product_box(
    detections: list[Detection], shape: tuple[int, int], rule: str, camera: Camera = "other"
) -> tuple[Box, float]:
    """The product's box in an enrolment photo by `rule` (`pipeline.enrolment_box`) among its detections (at least
    one, best first), and the score it is given. `framed`: a photo from the kiosk's own camera shows the product wherever it was put on the tray, so the best
    box is taken; any other photo is framed on its product by whoever took it (`framed_box`)."""
    if rule == "union":
        return union_box(detections), detections[0].score
    chosen = detections[0] if camera == "kiosk" else framed_box(detections, shape)
    return chosen.box, chosen.score


class Enroller:
    def __init__(
        self,
        stages: Stages,
        catalog: Catalog,
        gallery: GalleryIndex,
        image_dir: Path,
        confusable_similarity: float,
    ) -> None:
        self.stages = stages
        self.catalog = catalog
        self.gallery = gallery
        self.image_dir = image_dir
        self.confusable_similarity = confusable_similarity

    def enrol(self, sku: str, photos: list[Photo]) -> EnrolmentPublic:
        """Add the photos to the product's gallery images; a kiosk-camera photo's product size is kept (size check)."""
        self.catalog.get_product(sku)  # unknown SKU: 404 before any work
        prepared, embeddings = self.prepare(photos)
        warnings = self._confusables(sku, embeddings)

        def answer(ids: list[int]) -> EnrolmentPublic:
            outcomes = [
                ImageOutcome(
                    index=index,
                    filename=item.photo.filename,
                    status="enrolled" if item.score is not None else "enrolled_whole_image",
                    image_id=image_id,
                    box=[round(v, 1) for v in item.box],
                    score=None if item.score is None else round(item.score, 4),
                )
                for index, (item, image_id) in enumerate(zip(prepared, ids, strict=True))
            ]
            return EnrolmentPublic(
                sku=sku, enrolled=len(ids), images=outcomes, warnings=warnings, gallery_version=self.gallery.version
            )

        return self._write(sku, prepared, embeddings, answer, kiosk_sizes=[p.kiosk_size() for p in prepared])

    def enrol_tray_crop(
        self, sku: str, crop_bgr: np.ndarray, receipt_id: str, kiosk_size: float | None = None
    ) -> EnrolmentPublic:
        """A staff-confirmed item of a stored tray photo, as a gallery image of `sku` (source `tray`). Refused when
        the crop lies among another SKU's photos (`confusable_similarity`): it would make the two confusable."""
        self.catalog.get_product(sku)
        embeddings = self.stages.embed([crop_bgr])
        warnings = self._confusables(sku, embeddings)
        if warnings:
            worst = warnings[0]
            raise ConfusableCropError(
                f"not added: this crop is {worst.similarity:.2f} alike to {worst.sku}'s photos (limit "
                f"{self.confusable_similarity:.2f}), so {sku} and {worst.sku} would become confusable"
            )
        ok, encoded = cv2.imencode(".jpg", crop_bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])
        if not ok:
            raise InvalidRequestError("the crop cannot be encoded")
        height, width = crop_bgr.shape[:2]
        prepared = [PreparedPhoto(Photo(f"tray-{receipt_id}.jpg", encoded.tobytes()), (0.0, 0.0, width, height), None,
                                  (height, width), self.stages.read_text(crop_bgr))]

        def answer(ids: list[int]) -> EnrolmentPublic:
            outcome = ImageOutcome(index=0, filename=prepared[0].photo.filename, status="enrolled_whole_image",
                                   image_id=ids[0], box=[0.0, 0.0, float(width), float(height)], score=None)
            return EnrolmentPublic(sku=sku, enrolled=1, images=[outcome], warnings=[],
                                   gallery_version=self.gallery.version)

        return self._write(
            sku, prepared, embeddings, answer, source="tray", receipt_id=receipt_id, kiosk_sizes=[kiosk_size]
        )

    def prepare(self, photos: list[Photo]) -> tuple[list[PreparedPhoto], np.ndarray]:
        """Decode each photo, find the product in it (or take the whole photo), embed all crops in one batch."""
        prepared: list[PreparedPhoto] = []
        crops: list[np.ndarray] = []
        for index, photo in enumerate(photos):
            with ExitStack() as holding:
                try:
                    image = holding.enter_context(self.stages.decoded(photo.data))
                except TrayscanError as error:
                    # Same status, but say which photo failed.
                    raise type(error)(f"image {index} ({photo.filename}): {error.detail}") from error
                box, score = self._find_product(image, photo.camera)
                crop = self.stages.crop(image, [box])[0]
                prepared.append(PreparedPhoto(photo, box, score, image.shape[:2], self.stages.read_text(crop)))
                crops.append(crop)
        return prepared, self.stages.embed(crops)

    def _find_product(self, image: np.ndarray, camera: Camera) -> tuple[Box, float | None]:
        """The product's box in a decoded photo (`pipeline.enrolment_box`) and its score; the whole photo with no
        score where nothing is found."""
        detections = self.stages.detect(image)
        if not detections:
            height, width = image.shape[:2]
            return (0.0, 0.0, float(width), float(height)), None
        return product_box(detections, image.shape[:2], self.stages.settings.enrolment_box, camera)

    def rebox(self, progress: Progress[list[ImageRecord]] = no_progress) -> int:
        """Find the product again in every stored enrolment photo by the current `pipeline.enrolment_box` (a gallery
        enrolled under another rule or detector); where its box moved, store the new box, kiosk size and embedding
        and drop the photo's saved sibling-check views. Returns how many moved; the caller rebuilds the index.
        Staff-confirmed tray crops are whole crops and stay. Run with the service stopped."""
        images = [image for image in self.catalog.images() if image.source == "enrolment"]
        batches = [images[i : i + REBOX_BATCH] for i in range(0, len(images), REBOX_BATCH)]
        moved = 0
        for batch in progress(batches, len(batches), "reboxing"):
            found: dict[int, tuple[Box, float | None]] = {}
            crops: list[np.ndarray] = []
            for image in batch:
                camera: Camera = "kiosk" if image.kiosk_size is not None else "other"
                try:
                    with self.stages.decoded((self.image_dir / image.image_path).read_bytes()) as decoded:
                        box, _ = self._find_product(decoded, camera)
                        if max(abs(new - old) for new, old in zip(box, image.box, strict=True)) < 0.5:
                            continue
                        crops.append(self.stages.crop(decoded, [box])[0])
                        size = relative_size(box, decoded.shape[:2]) if camera == "kiosk" else None
                except (OSError, TrayscanError) as error:
                    log.warning("gallery image %d not reboxed (%s): its box stays", image.id, error)
                    continue
                found[image.id] = (box, size)
            if not found:
                continue
            embeddings = self.stages.embed(crops)
            self.catalog.replace_boxes(
                {image_id: (box, size, embedding) for (image_id, (box, size)), embedding
                 in zip(found.items(), embeddings, strict=True)},
                self.stages.embedder.name,
            )
            for image in batch:
                if image.id in found:
                    for view in view_files(self.image_dir / image.image_path):
                        view.unlink(missing_ok=True)
            moved += len(found)
        return moved

    def _confusables(self, sku: str, embeddings: np.ndarray) -> list[ConfusableWarning]:
        if self.gallery.live_count == 0 or len(embeddings) == 0:
            return []
        closest: dict[str, float] = {}
        for row in search_neighbours(
            self.gallery, self.catalog.active_labels, embeddings, self.stages.settings.top_k
        ):
            for neighbour in row:
                if neighbour.sku != sku and neighbour.similarity >= self.confusable_similarity:
                    closest[neighbour.sku] = max(closest.get(neighbour.sku, -1.0), neighbour.similarity)
        return [
            ConfusableWarning(
                sku=other,
                similarity=round(similarity, 4),
                message=f"confusable with {other}: similarity {similarity:.2f} >= {self.confusable_similarity:.2f}",
            )
            for other, similarity in sorted(closest.items(), key=lambda kv: -kv[1])
        ]

    def _write(
        self,
        sku: str,
        prepared: list[PreparedPhoto],
        embeddings: np.ndarray,
        answer: Callable[[list[int]], EnrolmentPublic],
        source: str = "enrolment",
        receipt_id: str | None = None,
        kiosk_sizes: list[float | None] | None = None,
    ) -> EnrolmentPublic:
        """Photos, catalog rows and index vectors of one enrolment, all or nothing; its answer (`answer` of the new
        image ids) is made inside the transaction, so it goes into the same commit under an Idempotency-Key."""
        with self.gallery.lock, self._staged_photos(sku, prepared) as staged:
            added: list[int] = []
            try:
                with self.catalog.transaction() as session:
                    sizes = kiosk_sizes or [None] * len(prepared)
                    new_images = [
                        NewImage(path, item.box, embedding, self.stages.embedder.name, source, receipt_id, size,
                                 item.printed_text)
                        for (_, path), item, embedding, size in zip(staged, prepared, embeddings, sizes, strict=True)
                    ]
                    ids = self.catalog.add_images(session, sku, new_images)
                    self.gallery.add(embeddings, ids)
                    added = ids
                    enrolment = answer(ids)
                    store_answer(session, lambda: enrolment.model_dump(mode="json"))
                    for temporary, path in staged:  # moved in last, just before the commit
                        os.replace(temporary, self.image_dir / path)
            except BaseException:
                if added:  # the index took the vectors but the catalog did not commit them
                    self.gallery.remove(added)
                raise
            return enrolment

    @contextmanager
    def _staged_photos(self, sku: str, prepared: list[PreparedPhoto]) -> Iterator[list[tuple[Path, str]]]:
        """Write the photos (kept for re-embedding with a future embedder) under temporary names, synced to disk;
        the caller moves each to its final name inside the catalog transaction. All are deleted if the
        enrolment fails. A crash leaves at most `*.tmp` files or moved-in files without a catalog row, which
        `gallery.reconcile` removes at the next start.

        Yields (temporary file, final path relative to `image_dir` as the catalog stores it) pairs.
        """
        (self.image_dir / sku).mkdir(parents=True, exist_ok=True)
        staged: list[tuple[Path, str]] = []
        try:
            for item in prepared:
                path = f"{sku}/{uuid.uuid4().hex}{image_suffix(item.photo.data)}"
                temporary = self.image_dir / f"{path}{TEMPORARY_SUFFIX}"
                staged.append((temporary, path))
                with temporary.open("wb") as handle:
                    handle.write(item.photo.data)
                    handle.flush()
                    os.fsync(handle.fileno())
            yield staged
        except BaseException:
            for temporary, path in staged:
                temporary.unlink(missing_ok=True)
                (self.image_dir / path).unlink(missing_ok=True)
            raise

    def remove_product(self, sku: str) -> ProductDeleted:
        with self.gallery.lock:
            images = self.catalog.delete_product(sku)
            self.gallery.remove([image.id for image in images])
        self._delete_files(images)
        return ProductDeleted(sku=sku, images_removed=len(images), gallery_version=self.gallery.version)

    def remove_image(self, image_id: int) -> ImageDeleted:
        with self.gallery.lock:
            image = self.catalog.delete_image(image_id)
            self.gallery.remove([image.id])
        self._delete_files([image])
        return ImageDeleted(id=image.id, sku=image.sku, gallery_version=self.gallery.version)

    def photo_file(self, image_id: int) -> Path:
        """Where the stored photo of a gallery image is; ImageNotFoundError for an unknown id or a lost file."""
        path = self._path(self.catalog.get_image(image_id))
        if not path.is_file():
            raise ImageNotFoundError(f"the stored photo of gallery image {image_id} is missing")
        return path

    def _path(self, image: ImageRecord) -> Path:
        return self.image_dir / image.image_path

    def _delete_files(self, images: list[ImageRecord]) -> None:
        for image in images:
            photo = self._path(image)
            for view in view_files(photo):
                view.unlink(missing_ok=True)
            photo.unlink(missing_ok=True)
