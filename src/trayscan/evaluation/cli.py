"""`trayscan eval`: run every tray of a COCO-style annotation file through trayscan (and/or the PP-ShiTu way)
and report the RPC checkout metrics.

In-process (default) the models are loaded here and a temporary catalog + gallery is enrolled from the catalog
CSV and the enrolment photos (default: `catalog.csv` and `enrol/` next to the annotations, as `trayscan synth`
writes them). With `--url` each tray is POSTed to a running server; with `--admin-token` (or
TRAYSCAN_ADMIN_TOKEN) the catalog's products the server lacks are first enrolled through its admin API.

The RPC dataset: `--annotations instances_test2019.json --images test2019/ --catalog rpc.csv --enrol photos/`,
where rpc.csv has the columns `sku,name,price` with the RPC category names as SKUs (`1_puffed_food`) and
photos/<sku>/ holds a few exemplar photos of each (e.g. from RPC's train2019 single-product images).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from trayscan import compose
from trayscan.bench.stats import machine
from trayscan.config import PipelineSettings, Settings, load_settings
from trayscan.evaluation.baseline import PPShiTuRecognizer
from trayscan.evaluation.data import AnnotationError, TraySet, load_annotations
from trayscan.evaluation.feedback import feedback_curve
from trayscan.evaluation.http_client import ApiClient
from trayscan.evaluation.local import empty_service, enrol_catalog, read_catalog
from trayscan.evaluation.metrics import evaluate
from trayscan.evaluation.remote import EnrolmentError, enrol_over_http
from trayscan.evaluation.report import level_summary, markdown, pipeline_result
from trayscan.evaluation.runner import (
    InProcess,
    OverHttp,
    RecognizeFn,
    TrayRun,
    observe_trays,
    replay,
    run_trays,
    tray_progress,
)
from trayscan.inference.base import Detector, Embedder
from trayscan.pipeline.box_scorer import BoxScorer
from trayscan.pipeline.recognize import (
    BOX_SETTINGS,
    Recognizer,
    Stages,
    active_scorer,
    observation_floor,
    score_threshold,
)
from trayscan.progress import bar
from trayscan.services import Services

PIPELINES = ("trayscan", "ppshitu")


def load_models(settings: Settings) -> tuple[Detector, Embedder]:
    """The models named by the settings, loaded as the server loads them (tests replace this with fakes)."""
    return compose.load_models(settings)


def model_settings(settings: Settings, args: argparse.Namespace) -> Settings:
    changes = {"detector_dir": args.detector, "embedder_dir": args.embedder, "engine": args.engine}
    update = {key: value for key, value in changes.items() if value is not None}
    return settings.model_copy(update={"models": settings.models.model_copy(update=update)})


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="trayscan eval",
        description=__doc__.split("\n\n")[0],
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--annotations", type=Path, required=True, help="COCO json (synth annotations.json or RPC test)"
    )
    p.add_argument("--images", type=Path, required=True, help="folder the images' file_name is relative to")
    p.add_argument(
        "--url", help="base URL of a running server (e.g. http://127.0.0.1:8000): evaluate over HTTP"
    )
    p.add_argument(
        "--serve",
        type=Path,
        metavar="STATE_DIR",
        help="start a `trayscan serve` of its own with its state here (demo catalog of train SKUs only), enrol "
        "--split through its admin API and evaluate over HTTP; catalog and gallery are made anew each run",
    )
    p.add_argument("--pipeline", choices=(*PIPELINES, "both"), default="trayscan")
    p.add_argument("--out", type=Path, help="write the results as JSON")
    p.add_argument("--markdown", type=Path, help="write the results as a Markdown table")
    p.add_argument("--catalog", type=Path, help="catalog CSV (default: catalog.csv beside the annotations)")
    p.add_argument(
        "--enrol", type=Path, help="enrolment photos <SKU>/*.jpg (default: enrol/ beside the annotations)"
    )
    p.add_argument("--split", choices=("all", "train", "novel"), default="all", help="catalog rows to enrol")
    p.add_argument("--no-enrol", action="store_true", help="over HTTP: use the server's gallery as it is")
    p.add_argument(
        "--admin-token", default=os.environ.get("TRAYSCAN_ADMIN_TOKEN"), help="over HTTP: to enrol"
    )
    p.add_argument("--config", type=Path, help="service settings YAML (default: configs/default.yaml)")
    p.add_argument("--detector", type=Path, help="detector model folder (default: from settings)")
    p.add_argument("--embedder", type=Path, help="embedder model folder (default: from settings)")
    p.add_argument("--engine", help="onnxruntime or paddle (default: from settings)")
    p.add_argument("--limit", type=int, help="only the first N trays")
    p.add_argument("--workdir", type=Path, help="where the temporary catalog goes (default: a temp folder)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument(
        "--sweep",
        action="append",
        default=[],
        metavar="SETTING=V1,V2,...",
        help="in-process: also run trayscan's pipeline with each value of a pipeline setting (repeatable: every "
        "combination), on the same gallery, to calibrate thresholds on a validation set",
    )
    p.add_argument(
        "--signals",
        action="store_true",
        help="in-process: also run trayscan's pipeline with each combination of the candidate checks (the print, "
        "size and centre checks each off and on), to report what each signal gains over the embedding alone; the "
        "text check reads the enrolment photos, so compare it with TRAYSCAN_PIPELINE__TEXT_CHECK__ENABLED=1 and "
        "--sweep text_check.enabled=0,1",
    )
    p.add_argument(
        "--feedback",
        metavar="N1,N2,...",
        help="in-process: a simulated clerk confirms the doubtful items of the first N trays (the kiosk's feedback "
        "loop); the trays after the largest N are scored after each N (0: no feedback)",
    )
    args = p.parse_args(argv)
    if args.feedback is not None:
        try:
            args.feedback = sorted({int(v) for v in args.feedback.split(",")})
        except ValueError:
            p.error("--feedback takes tray counts such as 0,50,100")
        if min(args.feedback) < 0:
            p.error("--feedback counts are >= 0")
        if args.url or args.serve or args.sweep or args.pipeline != "trayscan":
            p.error("--feedback runs trayscan's pipeline in-process, without --url, --serve or --sweep")
    if args.url and args.pipeline != "trayscan":
        p.error("--pipeline ppshitu/both runs in-process only (the server runs trayscan's pipeline)")
    if args.signals:
        args.sweep += list(SIGNAL_SWEEP)
    if args.url and args.sweep:
        p.error("--sweep and --signals run in-process only")
    if args.serve and (args.url or args.pipeline != "trayscan" or args.sweep):
        p.error("--serve evaluates its own server over HTTP: not with --url, --pipeline ppshitu/both or --sweep")
    try:
        args.sweep = parse_sweep(args.sweep)
    except ValueError as error:
        p.error(str(error))
    return args


# The candidate checks' switches: --signals runs every combination of them.
SIGNAL_SWEEP = ("sibling_check.enabled=0,1", "size_check.enabled=0,1", "centre_check.enabled=0,1")


def parse_sweep(specs: list[str]) -> list[dict[str, float]]:
    """['a=1,2', 'b=3'] -> [{'a': 1, 'b': 3}, {'a': 2, 'b': 3}], checked against the pipeline settings. A nested
    setting is named with dots (`sibling_check.margin`)."""
    axes: list[list[tuple[str, float]]] = []
    for spec in specs:
        name, _, values = spec.partition("=")
        if not _is_setting(name) or not values:
            raise ValueError(f"--sweep {spec!r}: expected SETTING=V1,V2 with a pipeline setting "
                             f"({', '.join(PipelineSettings.model_fields)}; nested ones as sibling_check.margin)")
        try:
            axes.append([(name, float(v)) for v in values.split(",")])
        except ValueError as error:
            raise ValueError(f"--sweep {spec!r}: values must be numbers") from error
    combos = [dict(combo) for combo in itertools.product(*axes)] if axes else []
    for combo in combos:
        try:
            varied(PipelineSettings(), combo)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
            raise ValueError(f"--sweep: {problems}") from error
    return combos


def _is_setting(name: str) -> bool:
    model: type[BaseModel] = PipelineSettings
    *parents, leaf = name.split(".")
    for part in parents:
        field = model.model_fields.get(part)
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return False
        model = field.annotation
    return leaf in model.model_fields


def varied(settings: PipelineSettings, changes: dict[str, float]) -> PipelineSettings:
    """`settings` with a sweep's values, validated: an integer setting gets an int, a value out of range fails."""
    data = settings.model_dump()
    for name, value in changes.items():
        *parents, leaf = name.split(".")
        target = data
        for part in parents:
            target = target[part]
        target[leaf] = value
    return PipelineSettings.model_validate(data)


def _catalog_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    folder = args.annotations.parent
    return args.catalog or folder / "catalog.csv", args.enrol or folder / "enrol"


def run_in_process(
    args: argparse.Namespace, settings: Settings, trays: TraySet, notes: list[str]
) -> dict[str, Any]:
    catalog_csv, enrol_dir = _catalog_paths(args)
    if not catalog_csv.is_file():
        raise FileNotFoundError(f"catalog CSV not found: {catalog_csv} (give --catalog)")
    settings = model_settings(settings, args)  # the service checks the box scorer against these model folders
    detector, embedder = load_models(settings)
    with tempfile.TemporaryDirectory(prefix="trayscan-eval-") as tmp:
        service = empty_service(detector, embedder, settings, args.workdir or Path(tmp))
        try:
            rows = read_catalog(catalog_csv, settings)
            build = enrol_catalog(service, rows, enrol_dir, args.split, bar(args.quiet, unit="product"))
            notes.append(
                f"gallery enrolled in-process through the service's enrolment code: {build.products_created} "
                f"products, {build.images_enrolled} images from {enrol_dir} (split {args.split}); "
                f"models {detector.name} + {embedder.name}"
            )
            notes.append(box_selection(settings, service.recognizer.stages.box_scorer))
            if args.feedback is not None:
                results, feedback_notes = feedback_curve(service, trays.trays, args.images, args.feedback, args.quiet,
                                                         trays.families)
                notes.extend(feedback_notes)
                return results
            return _run_pipelines(args, service, trays)
        finally:
            service.catalog.close()


def box_selection(settings: Settings, loaded: BoxScorer | None) -> str:
    scorer = active_scorer(settings.pipeline, loaded)
    if scorer is None:
        return "trayscan's boxes chosen by the threshold rule (no box scorer for these models, or box_scorer off)"
    threshold = score_threshold(settings.pipeline, scorer)
    return f"trayscan's boxes chosen by the box scorer in {settings.models.box_scorer_dir} (threshold {threshold:g})"


def _run_pipelines(args: argparse.Namespace, service: Services, trays: TraySet) -> dict[str, Any]:
    recognizers: dict[str, RecognizeFn] = {
        "trayscan": service.recognizer,
        "ppshitu": PPShiTuRecognizer(service.recognizer),
    }
    chosen = PIPELINES if args.pipeline == "both" else (args.pipeline,)
    results = {}
    for name in chosen:
        runs = run_trays(trays.trays, args.images, InProcess(recognizers[name]), tray_progress(args.quiet), name)
        results[name] = _score(name, trays, runs)
    for group in observation_groups(args.sweep):
        results.update(_run_sweep_group(args, service.recognizer, trays, group))
    return results


def observation_groups(combos: list[dict[str, float]]) -> list[list[dict[str, float]]]:
    """The sweep's combinations grouped by their settings other than the box settings: each group's trays go
    through the models once and every combination of it is a replay of the box selection."""
    groups: dict[tuple[tuple[str, float], ...], list[dict[str, float]]] = {}
    for combo in combos:
        key = tuple(sorted((k, v) for k, v in combo.items() if k not in BOX_SETTINGS))
        groups.setdefault(key, []).append(combo)
    return list(groups.values())


def _run_sweep_group(
    args: argparse.Namespace, base: Recognizer, trays: TraySet, group: list[dict[str, float]]
) -> dict[str, Any]:
    shared = {k: v for k, v in group[0].items() if k not in BOX_SETTINGS}
    stages = base.stages
    observing = Stages(
        stages.detector, stages.embedder, varied(stages.settings, shared), stages.limits, stages.box_scorer,
        stages.budget, stages.reader,
    )
    floor = min(observation_floor(varied(observing.settings, combo), stages.box_scorer) for combo in group)
    recognizer = Recognizer(observing, base.gallery, base.labels, base.details, base.sizes, base.centres, base.texts)
    label = " ".join(f"{k}={v:g}" for k, v in shared.items()) or "sweep"
    observed = observe_trays(trays.trays, args.images, recognizer, floor, tray_progress(args.quiet), label)
    results = {}
    for combo in group:
        name = "trayscan " + " ".join(f"{k}={v:g}" for k, v in combo.items())
        results[name] = _score(name, trays, replay(observed, varied(observing.settings, combo), stages.box_scorer))
    return results


def run_over_http(
    args: argparse.Namespace, settings: Settings, trays: TraySet, notes: list[str]
) -> dict[str, Any]:
    client = ApiClient(args.url, args.admin_token)
    catalog_csv, enrol_dir = _catalog_paths(args)
    if not args.no_enrol and args.admin_token and catalog_csv.is_file():
        enrolled = enrol_over_http(client, read_catalog(catalog_csv, settings), enrol_dir, args.split)
        notes.append(
            f"enrolled through the admin API of {args.url}: {enrolled.products_created} new products, "
            f"{enrolled.images_enrolled} images; {enrolled.products_existing} products were already there"
        )
        notes += [f"enrolment failure: {failure}" for failure in enrolled.failures[:5]]
        if enrolled.existing_novel:
            notes.append(
                f"warning: {len(enrolled.existing_novel)} novel SKUs were already in the server's catalog, so they "
                "were not enrolled through the admin API by this run (start the server with "
                "TRAYSCAN_DEMO__SPLIT=train to keep novel SKUs out of its demo catalog)"
            )
    else:
        notes.append(f"the gallery of {args.url} was used as it is (no enrolment)")
    runs = run_trays(trays.trays, args.images, OverHttp(client), tray_progress(args.quiet), "trayscan (http)")
    return {"trayscan": _score("trayscan", trays, runs)}


def run_own_server(
    args: argparse.Namespace, settings: Settings, trays: TraySet, notes: list[str]
) -> dict[str, Any]:
    """A fresh server whose demo catalog holds only train SKUs, so --split novel is enrolled through its API."""
    from trayscan.bench.server import ServerProcess

    state: Path = args.serve
    for leftover in ("catalog.db", "images", "gallery"):  # the demo world (slow to make) is kept
        target = state / leftover
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    env = {"TRAYSCAN_DEMO__SPLIT": "train"}
    if args.config:
        env["TRAYSCAN_CONFIG"] = str(args.config)
    with ServerProcess(state, env=env) as server:
        args.url, args.admin_token = server.url, server.admin_token
        notes.append(f"own server started for this run (state in {state}, demo catalog: train SKUs only), "
                     f"ready after {server.startup_s} s")
        return run_over_http(args, settings, trays, notes)


def _score(name: str, trays: TraySet, runs: list[TrayRun]) -> dict[str, Any]:
    report = evaluate(trays.trays, [run.predictions for run in runs], families=trays.families)
    print(f"{name}: {level_summary(report.overall)}", file=sys.stderr)
    return pipeline_result(report, trays.trays, runs)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings(args.config)
        trays = load_annotations(args.annotations).limit(args.limit)
        notes: list[str] = []
        if args.serve:
            pipelines = run_own_server(args, settings, trays, notes)
        elif args.url:
            pipelines = run_over_http(args, settings, trays, notes)
        else:
            pipelines = run_in_process(args, settings, trays, notes)
    except (AnnotationError, FileNotFoundError, EnrolmentError, ImportError, ValueError) as error:
        print(f"trayscan eval: {error}", file=sys.stderr)
        return 2
    results = {
        "command": "trayscan eval " + shlex.join(sys.argv[1:] if argv is None else argv),
        "machine": machine(),
        "annotations": str(args.annotations),
        "trays": len(trays.trays),
        "mode": f"http {args.url}" if args.url else "in-process",
        "notes": notes,
        "pipelines": pipelines,
    }
    text = markdown(results)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text)
    print(text)
    errors = sum(p["errors"] for p in pipelines.values())
    return 1 if errors and errors == len(trays.trays) * len(pipelines) else 0
