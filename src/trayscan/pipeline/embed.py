"""Embed stage: all crops of one image in one batched call; the result is checked and L2-normalised."""

from __future__ import annotations

import numpy as np

from trayscan.inference.base import Embedder


def embed_crops(embedder: Embedder, crops: list[np.ndarray]) -> np.ndarray:
    if not crops:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    features = np.asarray(embedder.embed(crops), dtype=np.float32)
    if features.shape != (len(crops), embedder.dim):
        raise RuntimeError(
            f"embedder {embedder.name} returned {features.shape}, expected {(len(crops), embedder.dim)}"
        )
    # Inner product is cosine similarity only on unit vectors; do not trust every engine to normalise.
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return np.ascontiguousarray(features / np.maximum(norms, 1e-12))
