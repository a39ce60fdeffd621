"""The live gallery: Faiss HNSW (inner product on L2-normalised embeddings) under IndexIDMap2.

HNSW cannot remove vectors, so removal is a tombstone: deleted ids are filtered at search time and dropped for
good by `rebuild` (compaction). Ids are the catalog's gallery image ids. Every change bumps `version` and is
persisted: `index-<version>.faiss` holds the vectors and `manifest.json`, written last, names the current index
file and the tombstones, so a crash leaves the previous consistent state.

Rewriting the whole index after each enrolment would cost more than the enrolment itself at 100k vectors, so
small additions only rewrite the manifest; the index file is rewritten once `full_save_adds` vectors have been
added since the last full save, on `flush()` (shutdown) and after a rebuild. Vectors added in between are not
lost on a crash: the catalog holds their embeddings and `open_gallery` adds them back at startup.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss as faiss_typed
import numpy as np

from trayscan.errors import GalleryEmptyError
from trayscan.gallery.storage import write_bytes_atomic, write_json_atomic

log = logging.getLogger(__name__)

# Faiss's bundled type hints lack the SWIG classes used here (SearchParametersHNSW, IndexIDMap2 members).
faiss: Any = faiss_typed

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class IndexParams:
    dim: int = 512
    hnsw_m: int = 32
    ef_construction: int = 200  # as config.GallerySettings, which says why
    ef_search: int = 64
    full_save_adds: int = 1000  # vectors added between full rewrites of the index file (0: rewrite every time)


class GalleryIndex:
    """Thread-safe: searches and writes take `lock`; callers that change catalog and index together hold it too."""

    def __init__(self, params: IndexParams, embedder: str, directory: Path | None = None) -> None:
        self.params = params
        self.embedder = embedder
        self.directory = directory
        self.version = 0
        self.lock = threading.RLock()
        self._index = self._empty_index()
        self._ids: set[int] = set()
        self._deleted: set[int] = set()
        self._index_file: str | None = None
        self._search_params: Any = None
        self._saves_deferred = False
        self._unsaved_vectors = False
        self._unsaved_adds = 0  # vectors in memory that the index file on disk lacks

    def _empty_index(self) -> Any:
        hnsw = faiss.IndexHNSWFlat(self.params.dim, self.params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = self.params.ef_construction
        return faiss.IndexIDMap2(hnsw)

    # reading

    @property
    def live_ids(self) -> set[int]:
        with self.lock:
            return self._ids - self._deleted

    @property
    def indexed_ids(self) -> set[int]:
        """Every id in the index, tombstoned ones included (an id is never added twice)."""
        with self.lock:
            return set(self._ids)

    @property
    def live_count(self) -> int:
        with self.lock:
            return len(self._ids) - len(self._deleted)

    @property
    def deleted_count(self) -> int:
        with self.lock:
            return len(self._deleted)

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (similarities, ids) per row, best first; missing neighbours have id -1."""
        vectors = self._check_vectors(vectors)
        with self.lock:
            if self.live_count == 0:
                raise GalleryEmptyError("the gallery is empty: enrol products before checkout")
            if len(vectors) == 0:
                return np.zeros((0, k), np.float32), np.zeros((0, k), np.int64)
            similarities, ids = self._index.search(vectors, k, params=self._params())
        return similarities, ids

    def _params(self) -> Any:
        # Built once per tombstone change; the Python objects are kept because Faiss holds raw pointers to them.
        if self._search_params is None:
            params = faiss.SearchParametersHNSW()
            params.efSearch = self.params.ef_search
            if self._deleted:
                batch = faiss.IDSelectorBatch(np.fromiter(self._deleted, np.int64, len(self._deleted)))
                selector = faiss.IDSelectorNot(batch)
                params.sel = selector
                params.references = (batch, selector)
            self._search_params = params
        return self._search_params

    def _check_vectors(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.params.dim:
            raise ValueError(f"expected vectors of shape [n, {self.params.dim}], got {vectors.shape}")
        return vectors

    # writing

    def add(self, vectors: np.ndarray, ids: list[int]) -> None:
        vectors = self._check_vectors(vectors)
        id_array = np.asarray(ids, dtype=np.int64)
        if len(id_array) != len(vectors):
            raise ValueError("one id per vector")
        with self.lock:
            reused = self._ids.intersection(id_array.tolist())
            if reused:
                raise ValueError(f"ids already in the index: {sorted(reused)[:5]}")
            if len(vectors):
                self._index.add_with_ids(vectors, id_array)
                self._ids.update(id_array.tolist())
            self._unsaved_adds += len(vectors)
            self._changed(vectors_changed=self._unsaved_adds > self.params.full_save_adds)

    def remove(self, ids: list[int]) -> None:
        """Tombstone ids: gone from search results at once."""
        with self.lock:
            present = self._ids.intersection(ids) - self._deleted
            if not present:
                return
            self._deleted |= present
            self._search_params = None
            self._changed(vectors_changed=False)

    def rebuild(self, vectors: np.ndarray, ids: list[int]) -> None:
        """Replace the whole index by these vectors (compaction: tombstoned vectors are dropped)."""
        vectors = self._check_vectors(vectors)
        fresh = self._empty_index()
        if len(vectors):
            fresh.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
        with self.lock:
            self._index = fresh
            self._ids = {int(i) for i in ids}
            self._deleted = set()
            self._search_params = None
            self._changed(vectors_changed=True)

    def _changed(self, vectors_changed: bool) -> None:
        self.version += 1
        if self._saves_deferred:
            self._unsaved_vectors |= vectors_changed
        elif self.directory is not None:
            self._save(self.directory, vectors_changed)

    def flush(self) -> None:
        """Write the index file if vectors were added since the last full save (at shutdown)."""
        with self.lock:
            if self.directory is not None and self._unsaved_adds:
                self._save(self.directory, vectors_changed=True)

    @contextmanager
    def deferred_saves(self) -> Iterator[None]:
        """Save once after many changes (bulk builds) instead of after each one.

        A crash in between loses only the index file; the catalog still has every embedding, so the startup
        check rebuilds the index.
        """
        with self.lock:
            self._saves_deferred = True
        try:
            yield
        finally:
            with self.lock:
                self._saves_deferred = False
                if self.directory is not None:
                    self._save(self.directory, self._unsaved_vectors or self._unsaved_adds > 0)
                self._unsaved_vectors = False

    # persistence

    def _save(self, directory: Path, vectors_changed: bool) -> None:
        if vectors_changed or self._index_file is None:
            self._index_file = f"index-{self.version:08d}.faiss"
            write_bytes_atomic(directory / self._index_file, faiss.serialize_index(self._index).tobytes())
            self._unsaved_adds = 0
        manifest = {
            "format": FORMAT_VERSION,
            "version": self.version,
            "index_file": self._index_file,
            "embedder": self.embedder,
            "dim": self.params.dim,
            "hnsw_m": self.params.hnsw_m,
            "ids": len(self._ids) - self._unsaved_adds,  # in the index file
            "deleted": sorted(self._deleted),
        }
        write_json_atomic(directory / MANIFEST, manifest)
        for stale in directory.glob("index-*.faiss"):
            if stale.name != self._index_file:
                stale.unlink(missing_ok=True)

    @staticmethod
    def stored_embedder(directory: Path) -> str | None:
        """Name of the embedder the persisted gallery was built with, if there is one."""
        try:
            return str(json.loads((directory / MANIFEST).read_text())["embedder"])
        except (OSError, ValueError, KeyError):
            return None

    @classmethod
    def load(cls, directory: Path, params: IndexParams, embedder: str) -> GalleryIndex | None:
        """The persisted gallery, or None if there is none or it does not fit these params and embedder."""
        if not (directory / MANIFEST).is_file():
            return None
        try:
            manifest = json.loads((directory / MANIFEST).read_text())
            if manifest.get("format") != FORMAT_VERSION:
                return None
            if (manifest["embedder"], manifest["dim"], manifest["hnsw_m"]) != (
                embedder,
                params.dim,
                params.hnsw_m,
            ):
                log.warning("gallery in %s was built for another embedder or shape", directory)
                return None
            data = (directory / manifest["index_file"]).read_bytes()
            index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
            ids = faiss.vector_to_array(index.id_map)
        except (OSError, ValueError, KeyError, RuntimeError) as error:
            log.warning("cannot load the gallery in %s: %s", directory, error)
            return None
        gallery = cls(params, embedder, directory)
        faiss.downcast_index(index.index).hnsw.efConstruction = params.ef_construction
        gallery._index = index
        gallery._ids = {int(i) for i in ids}
        gallery._deleted = {int(i) for i in manifest["deleted"]} & gallery._ids
        gallery._index_file = manifest["index_file"]
        gallery.version = int(manifest["version"])
        return gallery
