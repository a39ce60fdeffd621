"""Detail views of gallery images (gallery/details.py): made from the stored photo once, saved beside it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from trayscan.catalog.repository import ImageRecord
from trayscan.config import PipelineSettings
from trayscan.gallery.details import GalleryDetails, view_file, view_files
from trayscan.pipeline.decode import ImageLimits
from trayscan.pipeline.recognize import Stages

from ..builders import encode, sibling_labels, turned_photo
from ..fakes import BlobDetector, HistogramEmbedder

SIDE = 256


class OneImageCatalog:
    def __init__(self, record: ImageRecord) -> None:
        self.record = record

    def images_by_ids(self, image_ids: object) -> list[ImageRecord]:
        return [self.record] if self.record.id in set(image_ids) else []  # type: ignore[call-overload]


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, ImageRecord]:
    photo = turned_photo(sibling_labels()["TS0068"], angle=8, scale=1.0, gain=1.0)
    (tmp_path / "TS0068").mkdir()
    (tmp_path / "TS0068" / "a.png").write_bytes(encode(photo))
    box = (30.0, 30.0, float(photo.shape[1] - 30), float(photo.shape[0] - 30))  # room for any padding
    record = ImageRecord(7, "TS0068", "TS0068/a.png", box, np.zeros(4, np.float32), "e", datetime.now(UTC))
    return tmp_path, record


def details(image_dir: Path, record: ImageRecord, padding: float = 0.05, max_keypoints: int = 0) -> GalleryDetails:
    stages = Stages(
        BlobDetector(), HistogramEmbedder(), PipelineSettings(crop_padding=padding), ImageLimits(10**8, 10**8)
    )
    return GalleryDetails(OneImageCatalog(record), stages, image_dir, SIDE, capacity=8,  # type: ignore[arg-type]
                          max_keypoints=max_keypoints)


def test_a_view_is_saved_beside_its_photo_and_loaded_by_the_next_server(stored: tuple[Path, ImageRecord]) -> None:
    image_dir, record = stored
    made = details(image_dir, record).views([7])[7]
    saved = view_file(image_dir / record.image_path, SIDE)
    assert saved.is_file()
    assert made.gray.shape[1] == SIDE and len(made.points) > 20

    (image_dir / record.image_path).unlink()  # a new server can no longer make it: it must load it
    loaded = details(image_dir, record).views([7])[7]
    np.testing.assert_array_equal(loaded.gray, made.gray)
    np.testing.assert_array_equal(loaded.points, made.points)
    np.testing.assert_array_equal(loaded.descriptors, made.descriptors)
    assert loaded.descriptors.dtype == np.float32


def test_a_view_made_with_other_settings_or_damaged_is_made_again(stored: tuple[Path, ImageRecord]) -> None:
    image_dir, record = stored
    saved = view_file(image_dir / record.image_path, SIDE)
    first = details(image_dir, record, padding=0.05).views([7])[7]
    wider = details(image_dir, record, padding=0.2).views([7])[7]  # another crop padding: another crop
    assert not np.array_equal(wider.points, first.points)
    capped = details(image_dir, record, padding=0.2, max_keypoints=10).views([7])[7]  # a keypoint cap: made again
    assert len(capped.points) == 10 < len(wider.points)

    saved.write_bytes(b"not a view")
    again = details(image_dir, record, padding=0.05).views([7])[7]
    np.testing.assert_array_equal(again.gray, first.gray)
    with np.load(saved) as rewritten:
        np.testing.assert_array_equal(rewritten["gray"], first.gray)


def test_view_files_lists_every_side_of_one_photo_only(tmp_path: Path) -> None:
    photo = tmp_path / "a.jpg"
    for path in (view_file(photo, 256), view_file(photo, 320), view_file(tmp_path / "ab.jpg", 320)):
        path.write_bytes(b"x")
    assert [p.name for p in view_files(photo)] == ["a.jpg.view256.npz", "a.jpg.view320.npz"]
