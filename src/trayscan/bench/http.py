"""HTTP throughput and latency with 1/2/4/8 concurrent clients, and the server's memory.

Each client is a thread POSTing 10-item tray photos to `/v1/checkout` back to back, a bounded number of times.
Against a server this module starts (a `trayscan serve` child on 127.0.0.1): first with the demo gallery, then
with a gallery of `vectors` random embeddings written into its catalog, with the index persisted beside it (the
server loads both at startup, as after a restart). With `url`, only the load test runs against that server.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from trayscan import compose
from trayscan.bench.gallery import GalleryBenchConfig, clustered_vectors
from trayscan.bench.load import Tally, run_together
from trayscan.bench.mixed import markdown as mixed_markdown
from trayscan.bench.mixed import mixed_run
from trayscan.bench.server import ServerProcess
from trayscan.bench.world import trays_with
from trayscan.catalog.repository import Catalog, NewImage
from trayscan.config import Settings
from trayscan.evaluation.http_client import ApiClient
from trayscan.gallery.index import MANIFEST, GalleryIndex
from trayscan.gallery.sync import rebuild

VECTOR_PRODUCTS = 1000  # the random gallery's vectors are spread over this many products


@dataclass(frozen=True)
class HttpBenchConfig:
    concurrency: tuple[int, ...] = (1, 2, 4, 8)
    requests_per_client: int = 10
    items: int = 10
    trays: int = 8
    vectors: int = 100_000  # 0: skip the large-gallery server
    state_dir: Path = Path("build/bench-server")
    demo_world: Path | None = Path("data/train")  # a synth folder of the demo world, if already generated
    url: str | None = None
    mixed_seconds: float = 0.0  # > 0: also the mixed run (bench/mixed.py) for this long, 8 checkout clients


def load_test(
    client: ApiClient, trays: list[bytes], concurrency: int, requests_per_client: int
) -> dict[str, Any]:
    tally = Tally()

    def worker(offset: int) -> None:
        for i in range(requests_per_client):
            data = trays[(offset + i) % len(trays)]
            start = time.perf_counter()
            try:
                response = client.checkout(data)
                error = None if response.status == 200 else response.reason()
            except OSError as exc:
                error = f"connection: {exc}"
            if error is None:
                tally.answered((time.perf_counter() - start) * 1000.0)
            else:
                tally.failed(error)

    wall = run_together([functools.partial(worker, k * 3) for k in range(concurrency)])
    summary = tally.summary()
    return {
        "clients": concurrency,
        "requests": concurrency * requests_per_client,
        "ok": summary["ok"],
        "errors": summary["errors"],
        "error_examples": summary["error_examples"],
        "wall_s": round(wall, 2),
        "trays_per_s": round(summary["ok"] / wall, 2) if wall > 0 else None,
        "latency_ms": summary["latency_ms"],
    }


def load_tests(client: ApiClient, trays: list[bytes], config: HttpBenchConfig) -> list[dict[str, Any]]:
    client.checkout(trays[0])  # warm-up
    return [load_test(client, trays, c, config.requests_per_client) for c in config.concurrency]


def prepare_vectors_state(settings: Settings, state_dir: Path, n: int, embedder: str, dim: int) -> None:
    """A catalog of n random gallery embeddings of the server's embedder, and its persisted index.

    The index is built here with the service's own rebuild, so the server loads it at startup as after any
    restart (its startup then does not include a 100k-vector HNSW build). Kept for later runs.
    """
    catalog = Catalog.open(f"sqlite:///{state_dir / 'catalog.db'}")
    try:
        if catalog.list_products(limit=1)[1] == 0:
            vectors, _, _ = clustered_vectors(n, GalleryBenchConfig(dim=dim), np.random.default_rng(7))
            per_product = -(-n // VECTOR_PRODUCTS)
            for p, start in enumerate(range(0, n, per_product)):
                sku = f"BENCH{p:05d}"
                catalog.create_product(sku, f"Bench product {p}", Decimal("1.00"), settings.currency)
                images = [
                    NewImage(f"{sku}/missing.jpg", (0.0, 0.0, 1.0, 1.0), vectors[i], embedder)
                    for i in range(start, min(start + per_product, n))
                ]
                with catalog.transaction() as session:
                    catalog.add_images(session, sku, images)
        if not (state_dir / "gallery" / MANIFEST).is_file():
            params = dataclasses.replace(compose.index_params(settings), dim=dim)
            rebuild(GalleryIndex(params, embedder, state_dir / "gallery"), catalog)
    finally:
        catalog.close()


def reuse_demo_world(settings: Settings, world: Path | None, state_dir: Path) -> bool:
    """Link an already generated synth folder of the demo's world as the server's demo world (saves making it)."""
    target = state_dir / "demo"  # the server's settings.demo_dir under its data_dir
    if world is None or target.exists() or not (world / "manifest.json").is_file():
        return False
    made = json.loads((world / "manifest.json").read_text()).get("config", {})
    if (made.get("seed"), made.get("families")) != (settings.demo.seed, settings.demo.families):
        return False
    state_dir.mkdir(parents=True, exist_ok=True)
    target.symlink_to(world.resolve(), target_is_directory=True)
    return True


def _served(
    server: ServerProcess, trays: list[bytes], config: HttpBenchConfig, gallery: str
) -> dict[str, Any]:
    client = server.client()
    ready = client.get("/readyz").body
    tests = load_tests(client, trays, config)
    served = {
        "gallery": gallery,
        "gallery_size": ready.get("gallery_size") if isinstance(ready, dict) else None,
        "startup_s": server.startup_s,
        "load": tests,
        "memory": server.memory(),
    }
    if config.mixed_seconds > 0:
        served["mixed"] = mixed_run(client, trays, trays, config.mixed_seconds)
    return served


def run(settings: Settings, config: HttpBenchConfig) -> dict[str, Any]:
    trays = trays_with(config.items, config.trays)
    result: dict[str, Any] = {
        "config": {
            **asdict(config),
            "state_dir": str(config.state_dir),
            "demo_world": str(config.demo_world),
        },
        "servers": [],
    }
    if config.url:
        tests = load_tests(ApiClient(config.url), trays, config)
        result["servers"].append({"gallery": f"as served by {config.url}", "load": tests, "memory": None})
        return result
    reuse_demo_world(settings, config.demo_world, config.state_dir / "demo")
    with ServerProcess(config.state_dir / "demo") as server:
        result["servers"].append(
            _served(server, trays, config, "demo catalog (train SKUs of the demo world)")
        )
    if config.vectors:
        _, embedder = compose.load_models(settings)
        state = config.state_dir / f"vectors-{config.vectors}"
        state.mkdir(parents=True, exist_ok=True)
        prepare_vectors_state(settings, state, config.vectors, embedder.name, embedder.dim)
        del embedder
        small = HttpBenchConfig(concurrency=(1, 4), requests_per_client=5, items=config.items)
        with ServerProcess(state, env={"TRAYSCAN_DEMO__ENABLED": "false"}) as server:
            result["servers"].append(
                _served(
                    server,
                    trays,
                    small,
                    f"{config.vectors:,} random embeddings, index persisted before start",
                )
            )
    return result


def markdown(result: dict[str, Any]) -> list[str]:
    c = result["config"]
    lines = [
        "## HTTP: `POST /v1/checkout`, concurrent clients against one server on 127.0.0.1",
        "",
        f"{c['items']}-item 1280x960 JPEG trays ({c['trays']} different photos), each client sends its requests back "
        "to back; latency is the client's round trip. Memory from /proc: peak = VmHWM since start (startup "
        "included), now = VmRSS after the load.",
        "",
    ]
    for server in result["servers"]:
        memory = server.get("memory") or {}
        lines += [
            f"Gallery: {server['gallery']}"
            + (f", {server['gallery_size']:,} vectors" if server.get("gallery_size") is not None else "")
            + (f"; ready after {server['startup_s']} s" if server.get("startup_s") is not None else "")
            + (
                f"; server RSS peak {memory.get('peak_rss_mb')} MB, now {memory.get('rss_mb')} MB"
                if memory
                else ""
            ),
            "",
            "| clients | requests | trays/s | p50 ms | p95 ms | errors |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for t in server["load"]:
            lat = t["latency_ms"]
            p50 = "-" if lat["p50"] is None else f"{lat['p50']:.1f}"
            p95 = "-" if lat["p95"] is None else f"{lat['p95']:.1f}"
            lines.append(
                f"| {t['clients']} | {t['requests']} | {t['trays_per_s']} | {p50} | {p95} | {t['errors']} |"
            )
        lines.append("")
        if server.get("mixed"):
            lines += mixed_markdown(server["mixed"])
    return lines
