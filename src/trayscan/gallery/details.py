"""Detail views (grey pixels + SIFT keypoints) of gallery images for the sibling check.

A view is made from the stored enrolment photo (decode, crop, SIFT: tens of ms) the first time a checkout needs
it, and saved beside the photo (`<photo>.view<side>.npz`, ~100 kB), so it is made once per image, not once per
server start; loading a saved view takes a few ms. Not made at enrolment: a bulk `gallery build` of thousands
of products would pay for views most of which no tray ever needs. Views in use are kept in a bounded LRU cache.
Gallery ids are never reused, so a view is never stale for its image; a file made with another detail side, crop
padding or keypoint cap is made again.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from trayscan.catalog.repository import Catalog, ImageRecord
from trayscan.errors import TrayscanError
from trayscan.pipeline.recognize import Stages
from trayscan.pipeline.siblings import DetailView, detail_view

log = logging.getLogger(__name__)


VIEW_SUFFIX = ".view"


def view_file(photo: Path, long_side: int) -> Path:
    return photo.with_name(f"{photo.name}{VIEW_SUFFIX}{long_side}.npz")


def view_files(photo: Path) -> list[Path]:
    """Every saved view of a stored photo (any detail side), for deleting them with it."""
    return sorted(photo.parent.glob(f"{photo.name}{VIEW_SUFFIX}*.npz"))


def save_view(path: Path, view: DetailView, padding: float, max_keypoints: int = 0) -> None:
    """Atomic: a reader sees the old file or the whole new one. SIFT descriptors are whole numbers 0-255."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")  # two threads may make one view
    try:
        with tmp.open("wb") as handle:
            np.savez(handle, gray=view.gray, points=view.points, descriptors=view.descriptors.astype(np.uint8),
                     padding=np.float64(padding), max_keypoints=np.int64(max_keypoints))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # left only when writing failed


def load_view(path: Path, long_side: int, padding: float, max_keypoints: int = 0) -> DetailView | None:
    """The saved view, or None when there is none or it was made with other settings. OSError / ValueError on a
    damaged file."""
    if not path.is_file():
        return None
    with np.load(path) as saved:
        gray = saved["gray"]
        made_with = int(saved["max_keypoints"]) if "max_keypoints" in saved.files else 0  # older files: all
        if max(gray.shape) != long_side or float(saved["padding"]) != padding or made_with != max_keypoints:
            return None
        return DetailView(gray=gray, points=saved["points"], descriptors=saved["descriptors"].astype(np.float32))


def stored_crop(stages: Stages, image_dir: Path, image: ImageRecord) -> np.ndarray:
    """The crop of a gallery image, cut from its stored photo as enrolment cut it. OSError / TrayscanError
    when the file is gone or unreadable."""
    with stages.decoded((image_dir / image.image_path).read_bytes()) as decoded:
        return stages.crop(decoded, [image.box])[0]


class GalleryDetails:
    def __init__(self, catalog: Catalog, stages: Stages, image_dir: Path, long_side: int, capacity: int,
                 max_keypoints: int = 0) -> None:
        self.catalog = catalog
        self.stages = stages
        self.image_dir = image_dir
        self.long_side = long_side
        self.capacity = capacity
        self.max_keypoints = max_keypoints
        self._cache: OrderedDict[int, DetailView | None] = OrderedDict()
        self._lock = threading.Lock()

    def views(self, image_ids: Iterable[int]) -> dict[int, DetailView]:
        """Views of the given images; an image whose photo cannot be read is left out (and logged once)."""
        wanted = list(dict.fromkeys(int(i) for i in image_ids))
        found: dict[int, DetailView | None] = {}
        with self._lock:
            for image_id in wanted:
                if image_id in self._cache:
                    self._cache.move_to_end(image_id)
                    found[image_id] = self._cache[image_id]
        missing = [i for i in wanted if i not in found]
        if missing:
            made = self._make(missing)
            with self._lock:
                for image_id, view in made.items():
                    self._cache[image_id] = view
                    self._cache.move_to_end(image_id)
                while len(self._cache) > self.capacity:
                    self._cache.popitem(last=False)
            found.update(made)
        return {image_id: view for image_id, view in found.items() if view is not None}

    def _make(self, image_ids: list[int]) -> dict[int, DetailView | None]:
        made: dict[int, DetailView | None] = {}
        for image in self.catalog.images_by_ids(image_ids):
            made[image.id] = self._load_or_make(image)
        return made

    def _load_or_make(self, image: ImageRecord) -> DetailView | None:
        photo = self.image_dir / image.image_path
        saved = view_file(photo, self.long_side)
        padding = self.stages.settings.crop_padding
        try:
            view = load_view(saved, self.long_side, padding, self.max_keypoints)
        except (OSError, ValueError, KeyError) as error:
            log.warning("saved view %s unreadable (%s): made again", saved, error)
            view = None
        if view is not None:
            return view
        try:
            view = detail_view(stored_crop(self.stages, self.image_dir, image), self.long_side, self.max_keypoints)
        except (OSError, TrayscanError) as error:
            log.warning("gallery image %d has no detail view (%s): the sibling check skips it", image.id, error)
            return None
        try:
            save_view(saved, view, padding, self.max_keypoints)
        except OSError as error:  # a full or read-only disk costs speed, not answers
            log.warning("could not save the view of gallery image %d (%s)", image.id, error)
        return view
