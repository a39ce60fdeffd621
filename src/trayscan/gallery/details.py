"""Detail views (grey pixels + SIFT keypoints) of gallery images for the sibling check, made on first use.

Made lazily from the stored enrolment photo, so enrolment stays as fast as before and a start-up does not pay
for images no tray needs; kept in a bounded LRU cache. Gallery ids are never reused, so a cached view is never
stale: a deleted image is simply no longer asked for.
"""

from __future__ import annotations

import logging
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


def stored_crop(stages: Stages, image_dir: Path, image: ImageRecord) -> np.ndarray:
    """The crop of a gallery image, cut from its stored photo as enrolment cut it. OSError / TrayscanError
    when the file is gone or unreadable."""
    decoded = stages.decode((image_dir / image.image_path).read_bytes())
    return stages.crop(decoded, [image.box])[0]


class GalleryDetails:
    def __init__(self, catalog: Catalog, stages: Stages, image_dir: Path, long_side: int, capacity: int) -> None:
        self.catalog = catalog
        self.stages = stages
        self.image_dir = image_dir
        self.long_side = long_side
        self.capacity = capacity
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
            try:
                made[image.id] = detail_view(stored_crop(self.stages, self.image_dir, image), self.long_side)
            except (OSError, TrayscanError) as error:
                log.warning("gallery image %d has no detail view (%s): the sibling check skips it", image.id, error)
                made[image.id] = None
        return made
