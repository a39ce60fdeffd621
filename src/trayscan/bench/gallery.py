"""Gallery search: latency and recall@1 of the service's HNSW index against exact search (IndexFlatIP).

Vectors imitate an enrolled gallery: families of `family_size` look-alike products (product centres around a
random family direction), each product with `photos` unit vectors around its centre; queries are fresh photos of
random products. The index under test is the
service's own `GalleryIndex` (HNSW32 + IndexIDMap2, inner product, search through its lock and parameters).
efSearch is swept and the smallest value reaching the recall target is reported as the one chosen. Memory is the
growth of this process's resident set while the index is built (or loaded from the cache): what a replica holds.

efConstruction decides whether a large gallery can be searched well at all. On these vectors at 200k
(2026-12-03, 2 cores, loaded by other jobs) HNSW32 built with efConstruction 40 found the exact top-1 for
0.933 / 0.978 / 0.990 of the queries at efSearch 32 / 64 / 128, and built with 200 for 1.000 at every efSearch
from 32 up; the build took about 7 times as long (one-off script of the same generator and queries).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss as faiss_typed
import numpy as np

from trayscan.bench.stats import summarize
from trayscan.gallery.index import GalleryIndex, IndexParams
from trayscan.gallery.storage import write_json_atomic

faiss: Any = faiss_typed

EF_SEARCH_SWEEP = (16, 24, 32, 48, 64, 96, 128, 256)
RECALL_TARGET = 0.99


@dataclass(frozen=True)
class GalleryBenchConfig:
    sizes: tuple[int, ...] = (10_000, 100_000)
    dim: int = 512
    photos: int = 5  # gallery vectors per product
    noise: float = 0.5  # per-photo noise norm relative to the product centre (cosine ~0.9 to it)
    family_size: int = 5  # products per family
    family_noise: float = 0.8  # product centre noise around the family direction (cosine ~0.78 to it)
    queries: int = 1000
    hnsw_m: int = 32
    ef_construction: int = 200  # the service's default (config.GallerySettings), see above
    seed: int = 0
    ef_search_sweep: tuple[int, ...] = EF_SEARCH_SWEEP


def _unit(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x / np.linalg.norm(x, axis=1, keepdims=True), dtype=np.float32)


def clustered_vectors(
    n: int, config: GalleryBenchConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gallery [n, dim], product of each gallery vector [n], product centres)."""
    products = max(n // config.photos, 1)
    families = _unit(
        rng.standard_normal((max(products // config.family_size, 1), config.dim), dtype=np.float32)
    )
    spread = rng.standard_normal((products, config.dim), dtype=np.float32) * (
        config.family_noise / np.sqrt(config.dim)
    )
    centres = _unit(families[np.arange(products) % len(families)] + spread)
    labels = np.arange(n) % products
    vectors = np.empty((n, config.dim), dtype=np.float32)
    chunk = 100_000
    for start in range(0, n, chunk):
        idx = labels[start : start + chunk]
        noise = rng.standard_normal((len(idx), config.dim), dtype=np.float32) * (
            config.noise / np.sqrt(config.dim)
        )
        vectors[start : start + chunk] = _unit(centres[idx] + noise)
    return vectors, labels, centres


def set_ef_search(gallery: GalleryIndex, ef_search: int) -> None:
    # GalleryIndex fixes efSearch at construction; the cached search parameters are dropped to apply a new one.
    gallery.params = dataclasses.replace(gallery.params, ef_search=ef_search)
    gallery._search_params = None


def _timed_single_queries(gallery: GalleryIndex, queries: np.ndarray) -> tuple[list[float], np.ndarray]:
    times, found = [], np.empty(len(queries), dtype=np.int64)
    for i in range(len(queries)):
        start = time.perf_counter()
        _, ids = gallery.search(queries[i : i + 1], 1)
        times.append((time.perf_counter() - start) * 1000.0)
        found[i] = ids[0, 0]
    return times, found


def rss_mb() -> float | None:
    """This process's resident set now (Linux /proc), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


BUILD_CHUNK = 100_000  # vectors added between saves of a cached build


def _built_index(
    vectors: np.ndarray, config: GalleryBenchConfig, cache_dir: Path | None
) -> tuple[GalleryIndex, float]:
    """The HNSW index of these vectors and its build time; with a cache folder, built once and reloaded, keyed by
    the generator settings so other vectors never match. A 1M build takes hours on 2 cores, so a cached build is
    saved every `BUILD_CHUNK` vectors and a rerun resumes from the last chunk whose save completed; the build time
    is the sum of the chunks' add times (saves and reloads not counted)."""
    params = IndexParams(dim=config.dim, hnsw_m=config.hnsw_m, ef_construction=config.ef_construction)
    made_from = {
        k: v for k, v in dataclasses.asdict(config).items() if k not in ("sizes", "queries", "ef_search_sweep")
    }
    key = hashlib.sha256(json.dumps([len(vectors), made_from], sort_keys=True).encode()).hexdigest()
    folder = cache_dir / f"{len(vectors)}-{key[:12]}" if cache_dir else None
    if folder is None:
        in_memory = GalleryIndex(params, embedder="bench")
        start = time.perf_counter()
        in_memory.add(vectors, list(range(len(vectors))))
        return in_memory, time.perf_counter() - start
    if (folder / "build.json").is_file():
        cached = GalleryIndex.load(folder, params, "bench")
        if cached is not None:
            return cached, float(json.loads((folder / "build.json").read_text())["build_s"])
    folder.mkdir(parents=True, exist_ok=True)
    progress_file = folder / "progress.json"
    gallery: GalleryIndex | None = None
    added, build_s = 0, 0.0
    if progress_file.is_file():
        try:
            progress = json.loads(progress_file.read_text())
            saved_at, saved_s = int(progress["added"]), float(progress["build_s"])
        except (OSError, ValueError, KeyError, TypeError):
            saved_at, saved_s = -1, 0.0
        gallery = GalleryIndex.load(folder, params, "bench")
        if gallery is not None and gallery.live_count == saved_at:
            added, build_s = saved_at, saved_s
            print(f"gallery bench: resuming the {len(vectors):,}-vector build at {added:,}", flush=True)
        else:  # a stop between a chunk's save and its progress record: that build cannot be timed, so again
            print("gallery bench: the saved build does not match its progress record: building again", flush=True)
            gallery = None
    if gallery is None:
        gallery = GalleryIndex(params, embedder="bench", directory=folder)
    for first in range(added, len(vectors), BUILD_CHUNK):
        last = min(first + BUILD_CHUNK, len(vectors))
        with gallery.deferred_saves():  # the save is not part of the build time
            start = time.perf_counter()
            gallery.add(vectors[first:last], list(range(first, last)))
            build_s += time.perf_counter() - start
        # After the index's save (atomic, at the block's end): a stop before it leaves the last record and index.
        write_json_atomic(progress_file, {"added": last, "build_s": build_s})
    (folder / "build.json").write_text(json.dumps({"build_s": build_s}))
    progress_file.unlink(missing_ok=True)
    return gallery, build_s


def bench_size(n: int, config: GalleryBenchConfig, cache_dir: Path | None = None) -> dict[str, Any]:
    rng = np.random.default_rng([config.seed, n])
    vectors, labels, centres = clustered_vectors(n, config, rng)
    query_products = rng.integers(0, len(centres), config.queries)
    noise = rng.standard_normal((config.queries, config.dim), dtype=np.float32) * (
        config.noise / np.sqrt(config.dim)
    )
    queries = _unit(centres[query_products] + noise)

    exact = faiss.IndexFlatIP(config.dim)
    exact.add(vectors)
    start = time.perf_counter()
    _, exact_ids = exact.search(queries, 1)
    exact_batch_ms = (time.perf_counter() - start) * 1000.0
    exact_times: list[float] = []
    for i in range(min(50, config.queries)):
        t0 = time.perf_counter()
        exact.search(queries[i : i + 1], 1)
        exact_times.append((time.perf_counter() - t0) * 1000.0)
    del exact

    before = rss_mb()
    gallery, build_s = _built_index(vectors, config, cache_dir)
    after = rss_mb()
    index_mb = round(after - before, 1) if before is not None and after is not None else None

    default_threads = faiss.omp_get_max_threads()
    sweep = []
    for threads in sorted({default_threads, 1}, reverse=True):
        faiss.omp_set_num_threads(threads)
        for ef in config.ef_search_sweep:
            set_ef_search(gallery, ef)
            gallery.search(queries[:20], 1)  # warm-up
            times, found = _timed_single_queries(gallery, queries)
            sweep.append(
                {
                    "threads": threads,
                    "ef_search": ef,
                    "latency_ms": summarize(times),
                    "recall1": round(float(np.mean(found == exact_ids[:, 0])), 4),
                    "same_product": round(float(np.mean(labels[found] == labels[exact_ids[:, 0]])), 4),
                }
            )
    faiss.omp_set_num_threads(default_threads)
    chosen = {
        threads: next(
            (r for r in sweep if r["threads"] == threads and r["recall1"] >= RECALL_TARGET),
            [r for r in sweep if r["threads"] == threads][-1],
        )
        for threads in sorted({default_threads, 1}, reverse=True)
    }
    return {
        "vectors": n,
        "products": len(centres),
        "queries": config.queries,
        "build_s": round(build_s, 1),
        "index_rss_mb": index_mb,
        "rss_mb": round(after, 1) if after is not None else None,
        "exact_single_query_ms": summarize(exact_times),
        "exact_batch_ms_per_query": round(exact_batch_ms / config.queries, 3),
        "sweep": sweep,
        "chosen": {str(threads): row for threads, row in chosen.items()},
    }


def run(config: GalleryBenchConfig, cache_dir: Path | None = None) -> dict[str, Any]:
    return {
        "config": dataclasses.asdict(config),
        "threads": faiss.omp_get_max_threads(),
        "sizes": [bench_size(n, config, cache_dir) for n in config.sizes],
    }


def markdown(result: dict[str, Any]) -> list[str]:
    c = result["config"]
    lines = [
        "## Gallery search (service GalleryIndex: HNSW32 + IndexIDMap2, inner product) vs exact IndexFlatIP",
        "",
        f"Clustered unit vectors, {c['dim']}-d, {c['photos']} per product; {c['queries']} single-vector queries; "
        f"HNSW M {c['hnsw_m']}, efConstruction {c['ef_construction']}; families of {c['family_size']} "
        "look-alike products. recall@1 = the same id as exact search; same product = the top-1 is a photo of the exact top-1's product; chosen = the "
        f"smallest efSearch with recall@1 >= {RECALL_TARGET}. Faiss threads {result['threads']} is the library "
        "default; the service searches with `gallery.search_threads` (1). index MB = growth of the resident set "
        "while the index was built or loaded.",
        "",
        "| vectors | build s | index MB | Faiss threads | efSearch | p50 ms | p95 ms | p99 ms | recall@1 | same product "
        "| exact p50 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in result["sizes"]:
        for row in size["sweep"]:
            chosen = size["chosen"][str(row["threads"])]
            mark = " (chosen)" if row["ef_search"] == chosen["ef_search"] else ""
            lat = row["latency_ms"]
            lines.append(
                f"| {size['vectors']:,} | {size['build_s']} | {size.get('index_rss_mb')} | {row['threads']} | {row['ef_search']}{mark} | "
                f"{lat['p50']:.3f} | "
                f"{lat['p95']:.3f} | {lat['p99']:.3f} | {row['recall1']:.4f} | {row['same_product']:.4f} | "
                f"{size['exact_single_query_ms']['p50']:.2f} |"
            )
    return lines
