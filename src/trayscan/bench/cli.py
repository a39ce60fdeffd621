"""`trayscan bench [pipeline|engines|http|gallery|all]`: speed and memory, medians and p95, with the machine.

- pipeline: in-process latency per tray (1/5/10/20 items) with the stage breakdown, trayscan vs the PP-ShiTu
  way in one run, and enrolment latency per image, on the configured engine;
- engines:  the same on both engines (onnxruntime and paddle) where they load;
- http:     throughput and latency with 1/2/4/8 clients against a `trayscan serve` started on 127.0.0.1, errors,
  and the server's peak RSS with the demo gallery and with --vectors random embeddings;
- gallery:  HNSW search latency and recall@1 against exact IndexFlatIP at --sizes vectors, efSearch chosen;
- all:      engines + http + gallery.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import faiss

from trayscan.bench import gallery, http, pipeline, targets
from trayscan.bench.stats import machine, machine_line
from trayscan.config import load_settings

PARTS = ("pipeline", "engines", "http", "gallery", "all")
ENGINES = ("onnxruntime", "paddle")


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v.replace("_", "")) for v in text.split(",") if v.strip())


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="trayscan bench",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("part", nargs="?", choices=PARTS, default="all")
    p.add_argument("--config", type=Path, help="service settings YAML (models, pipeline settings)")
    p.add_argument("--results", type=Path, help="write the figures as Markdown (bench/RESULTS.md)")
    p.add_argument("--json", type=Path, help="write the figures as JSON")
    p.add_argument(
        "--render",
        type=Path,
        nargs="+",
        help="measure nothing: write the Markdown of saved --json runs, in order",
    )
    p.add_argument(
        "--faiss-threads", type=int, help="pipeline: Faiss OpenMP threads in this process (default: its own)"
    )
    p.add_argument(
        "--note", action="append", default=[], help="a line to print under the header (repeatable)"
    )
    p.add_argument("--items", type=_ints, default=(1, 5, 10, 20), help="pipeline: items per tray (1,5,10,20)")
    p.add_argument("--trays-per-size", type=int, default=3, help="pipeline: different trays per item count")
    p.add_argument("--repeats", type=int, default=5, help="pipeline: timed runs per tray and pipeline")
    p.add_argument("--products", type=Path, default=Path("data/train"), help="synth folder to enrol from")
    p.add_argument("--max-products", type=int, help="pipeline: enrol at most this many products")
    p.add_argument("--engines", default=",".join(ENGINES), help="engines part: comma-separated engine names")
    p.add_argument("--clients", type=_ints, default=(1, 2, 4, 8), help="http: concurrent clients")
    p.add_argument("--requests-per-client", type=int, default=10, help="http: requests each client sends")
    p.add_argument("--vectors", type=int, default=100_000, help="http: random-gallery size for RSS (0: skip)")
    p.add_argument("--state-dir", type=Path, default=Path("build/bench-server"), help="http: servers' state")
    p.add_argument("--url", help="http: load-test this running server instead of starting one")
    p.add_argument(
        "--mixed-seconds", type=float, default=0.0,
        help="http: then 8 checkout clients and 1 admin client (enrol, reprice, delete) for this long (0: skip)",
    )
    p.add_argument(
        "--sizes", type=_ints, default=(10_000, 100_000, 1_000_000), help="gallery: vector counts"
    )
    p.add_argument(
        "--gallery-cache",
        type=Path,
        default=Path("build/bench-gallery-cache"),
        help="gallery: keep built indexes here and reuse them (build time is recorded with them)",
    )
    p.add_argument("--queries", type=int, default=1000, help="gallery: single-vector queries per setting")
    p.add_argument(
        "--ef-construction",
        type=int,
        default=gallery.GalleryBenchConfig.ef_construction,
        help="gallery: HNSW efConstruction of the index built",
    )
    p.add_argument(
        "--ef-search", type=_ints, default=gallery.EF_SEARCH_SWEEP, help="gallery: efSearch values to sweep"
    )
    return p.parse_args(argv)


def run_parts(args: argparse.Namespace) -> dict[str, Any]:
    settings = load_settings(args.config)
    part = args.part
    results: dict[str, Any] = {}
    if part in ("pipeline", "engines", "all"):
        engines = (
            [settings.models.engine] if part == "pipeline" else [e for e in args.engines.split(",") if e]
        )
        config = pipeline.PipelineBenchConfig(
            items=args.items,
            trays_per_size=args.trays_per_size,
            repeats=args.repeats,
            products_folder=args.products,
            max_products=args.max_products,
        )
        results["pipeline"] = _timed(lambda: pipeline.run(settings, engines, config), "pipeline")
    if part in ("http", "all"):
        http_config = http.HttpBenchConfig(
            concurrency=args.clients,
            requests_per_client=args.requests_per_client,
            vectors=args.vectors,
            state_dir=args.state_dir,
            url=args.url,
            mixed_seconds=args.mixed_seconds,
        )
        results["http"] = _timed(lambda: http.run(settings, http_config), "http")
    if part in ("gallery", "all"):
        gallery_config = gallery.GalleryBenchConfig(
            sizes=args.sizes,
            queries=args.queries,
            ef_construction=args.ef_construction,
            ef_search_sweep=args.ef_search,
        )
        results["gallery"] = _timed(lambda: gallery.run(gallery_config, args.gallery_cache), "gallery")
    return results


def _timed(function: Any, name: str) -> dict[str, Any]:
    print(f"trayscan bench: {name} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    try:
        result: dict[str, Any] = function()
    except Exception as error:  # one failing part must not lose the figures of the others
        result = {"failed": f"{type(error).__name__}: {error}"}
    result["duration_s"] = round(time.perf_counter() - start, 1)
    return result


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# trayscan benchmarks",
        "",
        f"Command: `{report['command']}` (started {report['started']} UTC, {report['duration_s']} s).",
        "",
        f"Machine: {machine_line(report['machine'])}.",
        "",
        "Models: " + ", ".join(f"{k} `{v}`" for k, v in report.get("models", {}).items()) + "; Faiss OpenMP "
        f"threads in the benchmark process: {report.get('faiss_threads', 'library default')}.",
        "",
        "Figures are what this command measured on this machine, nothing else; the machine is shared with other "
        "jobs, so the load average above matters.",
        "",
    ]
    if report.get("notes"):
        lines += ["Notes:", ""] + [f"- {note}" for note in report["notes"]] + [""]
    lines += targets.markdown(report["parts"])
    renderers = {"pipeline": pipeline.markdown, "http": http.markdown, "gallery": gallery.markdown}
    for name, result in report["parts"].items():
        if "failed" in result:
            lines += [f"## {name}", "", f"Not measured: the run failed ({result['failed']}).", ""]
        else:
            lines += renderers[name](result) + [f"({name}: {result['duration_s']} s)", ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.render:
        reports = [json.loads(path.read_text()) for path in args.render]
        reports[0]["notes"] = reports[0].get("notes", []) + args.note
        text = "\n---\n\n".join(markdown(report) for report in reports)
        parts: dict[str, Any] = {}
    else:
        if args.faiss_threads:
            faiss.omp_set_num_threads(args.faiss_threads)
        settings = load_settings(args.config)
        started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
        info = machine()
        start = time.perf_counter()
        parts = run_parts(args)
        report = {
            "command": "trayscan bench " + shlex.join(argv),
            "models": {key: str(value) for key, value in settings.models.model_dump().items()},
            "faiss_threads": faiss.omp_get_max_threads(),
            "started": started,
            "duration_s": round(time.perf_counter() - start, 1),
            "machine": info,
            "parts": parts,
            "notes": args.note,
        }
        text = markdown(report)
    print(text)
    if args.results:
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(text)
    if args.json and not args.render:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 1 if any("failed" in result for result in parts.values()) else 0
