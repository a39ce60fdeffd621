from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from trayscan.errors import GalleryEmptyError
from trayscan.gallery import GalleryIndex, IndexParams

PARAMS = IndexParams(dim=16, hnsw_m=8, ef_construction=16, ef_search=16)


def unit_vectors(count: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, PARAMS.dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_search_finds_added_vectors_by_their_ids() -> None:
    gallery = GalleryIndex(PARAMS, "emb")
    vectors = unit_vectors(50)
    gallery.add(vectors, list(range(1000, 1050)))
    similarities, ids = gallery.search(vectors[[3, 7]], k=2)
    assert ids[:, 0].tolist() == [1003, 1007]
    np.testing.assert_allclose(similarities[:, 0], 1.0, rtol=1e-5)
    assert gallery.version == 1 and gallery.live_count == 50


def test_removed_ids_are_not_found_at_once() -> None:
    gallery = GalleryIndex(PARAMS, "emb")
    vectors = unit_vectors(20)
    gallery.add(vectors, list(range(20)))
    gallery.remove([5, 6])
    _, ids = gallery.search(vectors[[5, 6]], k=20)
    assert not {5, 6} & set(ids.ravel().tolist())
    assert gallery.live_count == 18 and gallery.deleted_count == 2 and gallery.version == 2


def test_empty_gallery_refuses_search() -> None:
    gallery = GalleryIndex(PARAMS, "emb")
    gallery.add(unit_vectors(1), [1])
    gallery.remove([1])
    with pytest.raises(GalleryEmptyError):
        gallery.search(unit_vectors(1), k=1)


def test_reused_id_is_refused() -> None:
    gallery = GalleryIndex(PARAMS, "emb")
    gallery.add(unit_vectors(2), [1, 2])
    with pytest.raises(ValueError, match="already in the index"):
        gallery.add(unit_vectors(1), [2])


def test_wrong_dimension_is_refused() -> None:
    with pytest.raises(ValueError, match=r"shape \[n, 16\]"):
        GalleryIndex(PARAMS, "emb").add(np.zeros((1, 8), np.float32), [1])


def test_rebuild_compacts() -> None:
    gallery = GalleryIndex(PARAMS, "emb")
    vectors = unit_vectors(10)
    gallery.add(vectors, list(range(10)))
    gallery.remove([0, 1])
    gallery.rebuild(vectors[2:], list(range(2, 10)))
    assert gallery.deleted_count == 0 and gallery.live_ids == set(range(2, 10)) and gallery.version == 3


def test_persists_atomically_and_reloads(tmp_path: Path) -> None:
    gallery = GalleryIndex(replace(PARAMS, full_save_adds=0), "emb", tmp_path)
    vectors = unit_vectors(10)
    gallery.add(vectors[:5], [1, 2, 3, 4, 5])
    gallery.add(vectors[5:], [6, 7, 8, 9, 10])
    gallery.remove([2])
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["index-00000002.faiss", "manifest.json"]  # old index file gone, no temp files left
    assert json.loads((tmp_path / "manifest.json").read_text())["deleted"] == [2]

    loaded = GalleryIndex.load(tmp_path, PARAMS, "emb")
    assert loaded is not None
    assert (loaded.version, loaded.live_ids) == (3, {1, 3, 4, 5, 6, 7, 8, 9, 10})
    _, ids = loaded.search(vectors[[0, 1]], k=1)
    assert ids[0, 0] == 1 and ids[1, 0] != 2


def test_load_refuses_another_embedder_or_a_broken_file(tmp_path: Path) -> None:
    gallery = GalleryIndex(PARAMS, "emb", tmp_path)
    gallery.add(unit_vectors(3), [1, 2, 3])
    assert GalleryIndex.load(tmp_path, PARAMS, "other-embedder") is None
    (tmp_path / "index-00000001.faiss").write_bytes(b"garbage")
    assert GalleryIndex.load(tmp_path, PARAMS, "emb") is None
    assert GalleryIndex.load(tmp_path / "missing", PARAMS, "emb") is None


def test_deferred_saves_write_once_at_the_end(tmp_path: Path) -> None:
    gallery = GalleryIndex(PARAMS, "emb", tmp_path)
    vectors = unit_vectors(6)
    with gallery.deferred_saves():
        gallery.add(vectors[:3], [1, 2, 3])
        gallery.add(vectors[3:], [4, 5, 6])
        gallery.remove([1])
        assert list(tmp_path.iterdir()) == []
    loaded = GalleryIndex.load(tmp_path, PARAMS, "emb")
    assert loaded is not None and (loaded.version, loaded.live_ids) == (3, {2, 3, 4, 5, 6})


def test_small_additions_rewrite_only_the_manifest_until_flush(tmp_path: Path) -> None:
    gallery = GalleryIndex(replace(PARAMS, full_save_adds=4), "emb", tmp_path)
    vectors = unit_vectors(8)
    gallery.add(vectors[:2], [1, 2])  # the first save writes the index file
    gallery.add(vectors[2:4], [3, 4])
    gallery.add(vectors[4:6], [5, 6])
    assert sorted(p.name for p in tmp_path.glob("*.faiss")) == ["index-00000001.faiss"]
    loaded = GalleryIndex.load(tmp_path, PARAMS, "emb")
    assert loaded is not None and loaded.indexed_ids == {1, 2} and loaded.version == 3

    gallery.add(vectors[6:], [7, 8])  # 6 unsaved > 4: full save
    assert sorted(p.name for p in tmp_path.glob("*.faiss")) == ["index-00000004.faiss"]
    gallery.add(vectors[:0], [])
    gallery.remove([3])
    gallery.flush()  # nothing added since the full save: the file stays
    assert sorted(p.name for p in tmp_path.glob("*.faiss")) == ["index-00000004.faiss"]

    gallery.add(unit_vectors(1, seed=1), [9])
    gallery.flush()
    loaded = GalleryIndex.load(tmp_path, PARAMS, "emb")
    assert loaded is not None and loaded.live_ids == set(range(1, 10)) - {3}
