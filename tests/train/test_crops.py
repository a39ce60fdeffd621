"""Crop sets of several worlds are joined into one buffer without mixing up images or labels."""

from pathlib import Path

import numpy as np

from trayscan.train.crops import CropSet
from trayscan.train.embedder_data import WORLD_LABEL_STRIDE, load_training_crops


def crop_set(rng: np.random.Generator, shapes: list[tuple[int, int]], first_label: int) -> CropSet:
    images = [rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8) for h, w in shapes]
    offsets = np.zeros(len(images) + 1, np.int64)
    offsets[1:] = np.cumsum([im.size for im in images])
    n = len(images)
    return CropSet(buffer=np.concatenate([im.ravel() for im in images]), offsets=offsets,
                   shapes=np.array([im.shape for im in images], np.int32),
                   boxes=rng.uniform(0, 5, size=(n, 4)).astype(np.float32),
                   labels=np.arange(first_label, first_label + n, dtype=np.int32),
                   source=rng.integers(0, 2, size=n).astype(np.uint8),
                   visible=rng.uniform(0.7, 1, size=n).astype(np.float32))


def test_training_crops_of_several_worlds_keep_every_image_and_offset_extra_labels(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    main, extra = crop_set(rng, [(4, 6), (7, 3)], 1), crop_set(rng, [(5, 5), (2, 9), (3, 3)], 1)
    main.save(tmp_path / ".cache" / "main-crops-train-12.npz")  # where load_crops caches each world
    extra.save(tmp_path / ".cache" / "extra-crops-novel-train-12.npz")

    joined = load_training_crops(tmp_path / "main", [tmp_path / "extra"], side=12)

    assert len(joined) == 5
    expected = [main.image(k) for k in range(2)] + [extra.image(k) for k in range(3)]
    for k, image in enumerate(expected):
        np.testing.assert_array_equal(joined.image(k), image)
    assert joined.labels.tolist() == [1, 2] + [WORLD_LABEL_STRIDE + v for v in (1, 2, 3)]
    np.testing.assert_array_equal(joined.source, np.concatenate([main.source, extra.source]))
    np.testing.assert_array_equal(joined.boxes, np.concatenate([main.boxes, extra.boxes]))
