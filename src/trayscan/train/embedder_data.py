"""Training batches for the embedder: cached crops, class-balanced or family batches, augmentation in worker
processes.

Batch k is drawn from a generator seeded by (seed, k): the stream is the same with any number of workers and
after a resume.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from trayscan.inference.preprocess import RecPreprocess
from trayscan.train.augment import AugmentConfig, augment
from trayscan.train.crops import CropSet, extract, read_catalog

MEAN = (0.485, 0.456, 0.406)  # ImageNet statistics, as PaddleClas RecPreProcess
STD = (0.229, 0.224, 0.225)


def crop_cache(data: Path, side: int, splits: set[str], enrol: bool = True) -> Path:
    """The crops' cache file, cut on first use (next to the data folder: data/ is git-ignored, the dataset itself
    stays untouched)."""
    tag = "-".join(sorted(splits)) + ("" if enrol else "-trays")
    cache = data.parent / ".cache" / f"{data.name}-crops-{tag}-{side}.npz"
    if not cache.exists():
        print(f"cutting crops from {data} (once; cached at {cache})", flush=True)
        extract(data, side=side, splits=splits, include_enrol=enrol).save(cache)
    return cache


def load_crops(data: Path, side: int, splits: set[str], enrol: bool = True) -> CropSet:
    return CropSet.load(crop_cache(data, side, splits, enrol))


WORLD_LABEL_STRIDE = 100_000  # labels of extra world k are offset by k * stride, so SKUs of worlds never collide


def load_training_crops(data: Path, extra: list[Path], side: int) -> CropSet:
    """`train` SKUs of the main world plus every SKU of each extra world (other seeds), with distinct labels."""
    caches = [crop_cache(data, side, {"train"})] + [crop_cache(d, side, {"train", "novel"}) for d in extra]

    def loader(k: int) -> Callable[[], CropSet]:
        def load() -> CropSet:
            part = CropSet.load(caches[k])
            part.labels = part.labels + k * WORLD_LABEL_STRIDE
            return part
        return load

    if len(caches) == 1:
        return CropSet.load(caches[0])
    return CropSet.concat([loader(k) for k in range(len(caches))],
                                 [CropSet.stored_buffer_size(c) for c in caches])


def training_families(data: Path, extra: list[Path]) -> dict[int, str]:
    """Training label -> its design family (world-qualified), with the labels `load_training_crops` gives."""
    families: dict[int, str] = {}
    for k, d in enumerate([data, *extra]):
        for cid, row in read_catalog(d).items():
            families[cid + k * WORLD_LABEL_STRIDE] = f"{k}:{row['family']}"
    return families


def load_val_set(val: Path, side: int) -> tuple[CropSet, CropSet]:
    """(gallery, queries) of the novel SKUs of a held-out dataset: enrolment crops and tray crops."""
    crops = load_crops(val, side, {"novel"})
    return crops.subset(crops.source == 1), crops.subset(crops.source == 0)


@dataclass(frozen=True)
class FamilyBatches:
    """A batch made of whole families: `skus` sibling SKUs of each drawn family (all of a smaller family), `per_sku`
    samples of each, so that every anchor meets its own SKU and its siblings in the batch (a PK sampler with the
    siblings as the hard negatives)."""

    family_of: dict[int, str]  # training label -> family
    skus: int = 4
    per_sku: int = 2


def _world_probabilities(labels: np.ndarray, world_weights: list[float]) -> np.ndarray:
    """Draw probability of each label (a class, or a family by its first class) when the worlds of
    `load_training_crops` are weighted: a world's draws scale with its weight, uniform within it."""
    worlds = labels // WORLD_LABEL_STRIDE
    if worlds.max() >= len(world_weights):
        raise ValueError(f"{len(world_weights)} world weights for {int(worlds.max()) + 1} worlds")
    p = np.asarray(world_weights, dtype=np.float64)[worlds]
    if p.sum() <= 0:
        raise ValueError("world weights must not all be 0")
    return p / p.sum()


class BatchSampler:
    """Class-balanced batches (class uniform, then enrolment photo or tray crop, then an instance), or family
    batches (`FamilyBatches`)."""

    def __init__(self, crops: CropSet, class_of: dict[int, int], size: int, enrol_share: float, seed: int,
                 aug_ramp_steps: int = 0, families: FamilyBatches | None = None,
                 world_weights: list[float] | None = None) -> None:
        self.crops = crops
        self.aug_ramp_steps = aug_ramp_steps
        self.class_of = class_of
        self.enrol_share = enrol_share
        self.seed = seed
        self.aug = AugmentConfig()
        self.pre = RecPreprocess(width=size, height=size, scale=1 / 255, mean=MEAN, std=STD)
        self.by_class: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for cid in class_of:
            idx = np.flatnonzero(crops.labels == cid)
            src = crops.source[idx]
            self.by_class[cid] = (idx[src == 0], idx[src == 1])
        self.class_ids = np.array(sorted(class_of), dtype=np.int64)
        self.families = families
        if families is not None:
            members: dict[str, list[int]] = {}
            for cid in self.class_ids:
                members.setdefault(families.family_of[int(cid)], []).append(int(cid))
            self.family_members = [np.array(m, dtype=np.int64) for _, m in sorted(members.items())]
        # Draw probabilities when worlds are weighted (None: uniform, the stream of unweighted runs unchanged).
        self.class_p = self.family_p = None
        if world_weights is not None:
            self.class_p = _world_probabilities(self.class_ids, world_weights)
            if families is not None:
                self.family_p = _world_probabilities(np.array([m[0] for m in self.family_members]), world_weights)

    def _classes(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        """The class of each sample in the batch."""
        if self.families is None:
            return rng.choice(self.class_ids, size=batch_size, p=self.class_p)
        out: list[int] = []
        while len(out) < batch_size:
            pick = rng.choice(len(self.family_members), p=self.family_p) if self.family_p is not None \
                else rng.integers(len(self.family_members))
            members = self.family_members[int(pick)]
            chosen = rng.permutation(members)[:self.families.skus]
            out.extend(int(c) for c in np.repeat(chosen, self.families.per_sku))
        return np.array(out[:batch_size], dtype=np.int64)

    def batch(self, step: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, step])
        strength = 0.15 + 0.85 * step / self.aug_ramp_steps if self.aug_ramp_steps else 1.0
        aug = self.aug.at_strength(strength)
        images, labels = [], []
        for cid in self._classes(rng, batch_size):
            trays, enrol = self.by_class[int(cid)]
            pool = enrol if (len(enrol) and (rng.random() < self.enrol_share or not len(trays))) else trays
            k = int(pool[rng.integers(len(pool))])
            other = int(rng.integers(len(self.crops)))  # an occluder cut from another item
            patch = self.crops.image(other)
            images.append(augment(self.crops.image(k), self.crops.boxes[k], rng, aug, patch, self.pre.width))
            labels.append(self.class_of[int(cid)])
        return self.pre(images), np.array(labels, dtype=np.int64)[:, None]


class Prefetcher:
    """Batches built in worker processes, a bounded window ahead of training, in step order.

    Workers are forked, so they share the crop buffer copy-on-write; they only run numpy/cv2, never paddle.
    Batch k depends only on (seed, k), so results are identical with any number of workers.
    """

    _sampler: BatchSampler | None = None  # set before fork, read by the workers

    def __init__(self, sampler: BatchSampler, batch_size: int, start: int, stop: int, workers: int,
                 window: int = 4) -> None:
        self.batch_size, self.next_submit, self.stop = batch_size, start, stop
        self.pending: deque[Any] = deque()
        self.pool = None
        self.sampler = sampler
        if workers > 0:
            Prefetcher._sampler = sampler
            self.pool = mp.get_context("fork").Pool(workers, initializer=_worker_init)
            for _ in range(window):
                self._submit()

    def _submit(self) -> None:
        if self.pool is not None and self.next_submit < self.stop:
            self.pending.append(self.pool.apply_async(_worker_batch, (self.next_submit, self.batch_size)))
            self.next_submit += 1

    def get(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        if self.pool is None:
            return self.sampler.batch(step, self.batch_size)
        result = self.pending.popleft().get()
        self._submit()
        return result

    def close(self) -> None:
        if self.pool is not None:
            # All submitted batches were consumed on a normal finish: a clean close avoids killing workers.
            if self.pending:
                self.pool.terminate()
            else:
                self.pool.close()
            self.pool.join()


def _worker_init() -> None:
    cv2.setNumThreads(1)


def _worker_batch(step: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    assert Prefetcher._sampler is not None  # set by the parent before forking
    return Prefetcher._sampler.batch(step, batch_size)
