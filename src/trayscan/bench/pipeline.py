"""In-process latency per tray, trayscan vs the PP-ShiTu way on the same models and photos, per engine.

For each engine the models are loaded as the server loads them, a temporary catalog + gallery is enrolled
through the service's `Enroller` (each call timed: enrolment latency per image), then every tray is run through
both pipelines alternately (after one warm-up run each), so both see the same machine load.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trayscan import compose
from trayscan.bench.stats import stage_medians, summarize
from trayscan.bench.world import bench_products, trays_with
from trayscan.config import Settings
from trayscan.evaluation.baseline import PPShiTuRecognizer
from trayscan.evaluation.local import empty_service
from trayscan.gallery.enrolment import Photo
from trayscan.inference.base import Detector, Embedder
from trayscan.pipeline.recognize import Recognition
from trayscan.services import Services

PIPELINES = ("trayscan", "ppshitu")


@dataclass(frozen=True)
class PipelineBenchConfig:
    items: tuple[int, ...] = (1, 5, 10, 20)
    trays_per_size: int = 3
    repeats: int = 5  # timed runs per tray and pipeline
    products_folder: Path | None = Path("data/train")
    photos_per_sku: int = 2
    max_products: int | None = None


def load_models(settings: Settings) -> tuple[Detector, Embedder]:
    """The models named by the settings, loaded as the server loads them (tests replace this with fakes)."""
    return compose.load_models(settings)


def _enrol(service: Services, config: PipelineBenchConfig) -> dict[str, Any]:
    per_image: list[float] = []
    products = 0
    for product in bench_products(config.products_folder, "train", config.photos_per_sku):
        if config.max_products is not None and products >= config.max_products:
            break
        service.catalog.create_product(product.sku, product.name, product.price, product.currency)
        photos = [Photo(f"{i:02d}.jpg", data) for i, data in enumerate(product.photos)]
        start = time.perf_counter()
        service.enroller.enrol(product.sku, photos)
        per_image.append((time.perf_counter() - start) * 1000.0 / len(photos))
        products += 1
    return {
        "products": products,
        "images": int(service.gallery.live_count),
        "photos_per_request": config.photos_per_sku,
        "ms_per_image": summarize(per_image),
    }


def _time_pipelines(
    recognizers: dict[str, Callable[[bytes], Recognition]], trays: list[bytes], repeats: int
) -> dict[str, Any]:
    runs: dict[str, list[Recognition]] = {name: [] for name in recognizers}
    for data in trays:
        for recognize in recognizers.values():
            recognize(data)  # warm-up (first call of a shape, caches)
        for _ in range(repeats):
            for name, recognize in recognizers.items():
                runs[name].append(recognize(data))
    result: dict[str, Any] = {}
    for name, recognitions in runs.items():
        result[name] = {
            "total_ms": summarize([r.timings_ms["total"] for r in recognitions]),
            "stage_p50_ms": stage_medians([r.timings_ms for r in recognitions]),
            "boxes_p50": float(np.median([len(r.boxes) for r in recognitions])),
        }
    ours, theirs = result["trayscan"]["total_ms"]["p50"], result["ppshitu"]["total_ms"]["p50"]
    result["ppshitu_over_trayscan_p50"] = round(theirs / ours, 2) if ours else None
    return result


def bench_engine(settings: Settings, engine: str, config: PipelineBenchConfig) -> dict[str, Any]:
    engine_settings = settings.model_copy(
        update={"models": settings.models.model_copy(update={"engine": engine})}
    )
    try:
        detector, embedder = load_models(engine_settings)
    except Exception as error:  # an engine that is not installed or cannot run these models
        return {"engine": engine, "unavailable": f"{type(error).__name__}: {error}"}
    with tempfile.TemporaryDirectory(prefix="trayscan-bench-") as tmp:
        service = empty_service(detector, embedder, settings, Path(tmp))
        try:
            enrolment = _enrol(service, config)
            recognizers: dict[str, Callable[[bytes], Recognition]] = {
                "trayscan": service.recognizer.recognize,
                "ppshitu": PPShiTuRecognizer(service.recognizer).recognize,
            }
            sizes = {
                str(n): _time_pipelines(recognizers, trays_with(n, config.trays_per_size), config.repeats)
                for n in config.items
            }
        finally:
            service.catalog.close()
    return {
        "engine": engine,
        "detector": detector.name,
        "embedder": embedder.name,
        "enrolment": enrolment,
        "items": sizes,
    }


def run(settings: Settings, engines: list[str], config: PipelineBenchConfig) -> dict[str, Any]:
    config_dict = asdict(config)
    config_dict["products_folder"] = str(config.products_folder) if config.products_folder else None
    return {
        "config": config_dict,
        "pipeline_settings": settings.pipeline.model_dump(),
        "models": {
            "detector_dir": str(settings.models.detector_dir),
            "embedder_dir": str(settings.models.embedder_dir),
        },
        "engines": [bench_engine(settings, engine, config) for engine in engines],
    }


def as_deployed_ratios(result: dict[str, Any]) -> dict[str, float]:
    """Per tray size: the PP-ShiTu way on Paddle Inference (how PP-ShiTu deploys) over trayscan on ONNX Runtime
    (trayscan's default), p50 over p50, from the two engine runs of this one benchmark."""
    by_engine = {e["engine"]: e for e in result.get("engines", []) if "items" in e}
    if not {"paddle", "onnxruntime"} <= by_engine.keys():
        return {}
    ours, theirs = by_engine["onnxruntime"]["items"], by_engine["paddle"]["items"]
    return {
        n: round(theirs[n]["ppshitu"]["total_ms"]["p50"] / ours[n]["trayscan"]["total_ms"]["p50"], 2)
        for n in ours
        if n in theirs and ours[n]["trayscan"]["total_ms"]["p50"]
    }


def markdown(result: dict[str, Any]) -> list[str]:
    c = result["config"]
    lines = [
        "## Pipeline latency per tray, in-process (trayscan vs the PP-ShiTu way, same models, same photos)",
        "",
        f"1280x960 JPEG trays of train SKUs with exactly N items, {c['trays_per_size']} trays per N, "
        f"{c['repeats']} timed runs each per pipeline after one warm-up, pipelines alternated. "
        f"Models: `{result['models']['detector_dir']}`, `{result['models']['embedder_dir']}`.",
        "",
    ]
    for engine in result["engines"]:
        if "unavailable" in engine:
            lines += [f"Engine **{engine['engine']}**: not measured ({engine['unavailable']}).", ""]
            continue
        lines += [
            f"Engine **{engine['engine']}** ({engine['detector']} + {engine['embedder']}):",
            "",
            "| items | pipeline | p50 ms | p95 ms | stage medians (ms) | boxes | PP-ShiTu / trayscan (p50) |",
            "|---:|---|---:|---:|---|---:|---:|",
        ]
        for n, sizes in engine["items"].items():
            for name in PIPELINES:
                r = sizes[name]
                stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stage_p50_ms"].items() if k != "total")
                ratio = f"{sizes['ppshitu_over_trayscan_p50']:.2f}x" if name == "ppshitu" else ""
                lines.append(
                    f"| {n} | {name} | {r['total_ms']['p50']:.1f} | {r['total_ms']['p95']:.1f} | {stages} | "
                    f"{r['boxes_p50']:.0f} | {ratio} |"
                )
        e = engine["enrolment"]["ms_per_image"]
        lines += [
            "",
            f"Enrolment through the service's Enroller ({engine['enrolment']['products']} products, "
            f"{engine['enrolment']['photos_per_request']} photos per call, gallery {engine['enrolment']['images']} "
            f"images): per image p50 {e['p50']:.1f} ms, p95 {e['p95']:.1f} ms.",
            "",
        ]
    deployed = as_deployed_ratios(result)
    if deployed:
        lines += [
            "Each system as it deploys: the PP-ShiTu way on Paddle Inference (PP-ShiTu's engine, one call per crop) "
            "over trayscan on ONNX Runtime (its default engine, one batched call), p50 over p50 from the two engine "
            "runs above: " + ", ".join(f"{n} items {r:.2f}x" for n, r in deployed.items()) + ".",
            "",
        ]
    return lines
