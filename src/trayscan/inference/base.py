"""The inference interface every detector and embedder implements, whatever engine runs it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Detection:
    """One detected item: box in original image pixels (x1, y1, x2, y2) and detector confidence."""

    box: tuple[float, float, float, float]
    score: float


class Detector(Protocol):
    name: str

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        """All boxes of one BGR uint8 image, best first, before any score threshold of the caller."""
        ...


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, crops_bgr: list[np.ndarray]) -> np.ndarray:
        """L2-normalised float32 features [len(crops), dim] for BGR uint8 crops, in one batched call."""
        ...
