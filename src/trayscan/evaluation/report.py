"""Results of an evaluation as JSON and as a Markdown table, pipelines side by side."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from trayscan.bench.stats import machine_line, stage_medians, summarize
from trayscan.evaluation.data import LEVELS, Tray
from trayscan.evaluation.metrics import EvalReport, LevelReport, predicted_counts
from trayscan.evaluation.runner import TrayRun

MAX_ERROR_EXAMPLES = 5
MAX_WRONG_TRAYS = 20


def wrong_trays(trays: Sequence[Tray], runs: Sequence[TrayRun], limit: int) -> list[dict[str, Any]]:
    """The first `limit` trays whose receipt is not exactly right: what was missing and what was extra."""
    wrong = []
    for tray, run in zip(trays, runs, strict=True):
        truth, predicted = tray.counts, predicted_counts(run.predictions)
        if truth != predicted:
            wrong.append(
                {
                    "image_id": tray.image_id,
                    "file_name": tray.file_name,
                    "items": len(tray.items),
                    "missing": dict(sorted((truth - predicted).items())),
                    "extra": dict(sorted((predicted - truth).items())),
                    "error": run.error,
                }
            )
            if len(wrong) == limit:
                break
    return wrong


def pipeline_result(report: EvalReport, trays: Sequence[Tray], runs: Sequence[TrayRun]) -> dict[str, Any]:
    errors = [run.error for run in runs if run.error is not None]
    ok = [run for run in runs if run.error is None]
    return {
        "overall": dataclasses.asdict(report.overall),
        "levels": {level: dataclasses.asdict(r) for level, r in report.levels.items()},
        "confused": [{"truth": t, "predicted": p, "count": n} for t, p, n in report.confused],
        "speed": {
            "latency_ms": summarize([run.latency_ms for run in ok]),
            "stage_p50_ms": stage_medians([run.timings_ms for run in ok]),
        },
        "errors": len(errors),
        "error_examples": errors[:MAX_ERROR_EXAMPLES],
        "wrong_trays": wrong_trays(trays, runs, MAX_WRONG_TRAYS),
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100.0 * value:.2f}%"


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _row(pipeline: str, level: str, r: dict[str, Any]) -> str:
    c, d = r["checkout"], r["detection"]
    cells = [
        pipeline,
        level,
        str(c["images"]),
        _pct(c["cacc"]),
        _num(c["acd"]),
        _num(c["mccd"]),
        _pct(c["mciou"]),
        _pct(d["ap50"]),
        _pct(d["recall50"]),
        _pct(d.get("precision50")),
        f'{_pct(d.get("part_boxes"))} / {_pct(d.get("group_boxes"))}',
        _pct(d["recognition_recall1"]),
    ]
    return "| " + " | ".join(cells) + " |"


def markdown(results: dict[str, Any]) -> str:
    pipelines: dict[str, Any] = results["pipelines"]
    lines = [
        "# Checkout accuracy (RPC metrics)",
        "",
        f"Command: `{results['command']}`",
        "",
        f"Machine: {machine_line(results['machine'])}",
        "",
        f"Trays: {results['trays']} from `{results['annotations']}`; mode: {results['mode']}.",
        "",
        "| pipeline | level | images | cAcc | ACD | mCCD | mCIoU | AP50 | recall@0.5 | precision@0.5 | "
        "part / group boxes | rec. recall@1 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, result in pipelines.items():
        for level in LEVELS:
            if result["levels"][level]["checkout"]["images"]:
                lines.append(_row(name, level, result["levels"][level]))
        lines.append(_row(name, "**averaged**", result["overall"]))
    lines += [
        "",
        "## Where the true items went (shares of all true items)",
        "",
        "| pipeline | items | billed right | as a sibling (its family or group) | as another product | unrecognised | "
        "no box |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, result in pipelines.items():
        o = result["overall"].get("outcomes")
        if o:
            lines.append(
                f"| {name} | {o['items']} | {_pct(o['right'])} | {_pct(o['sibling'])} | {_pct(o['other_product'])} "
                f"| {_pct(o['unrecognised'])} | {_pct(o['no_box'])} |"
            )
    lines += [
        "",
        "## Speed per tray (ms)",
        "",
        "| pipeline | trays | p50 | p95 | stage medians | errors |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for name, result in pipelines.items():
        latency, stages = result["speed"]["latency_ms"], result["speed"]["stage_p50_ms"]
        stage_text = ", ".join(f"{k} {v:.1f}" for k, v in stages.items()) or "-"
        lines.append(
            f"| {name} | {latency['n']} | {_num(latency['p50'], 1)} | {_num(latency['p95'], 1)} | "
            f"{stage_text} | {result['errors']} |"
        )
    for name, result in pipelines.items():
        lines += ["", f"## Most confused SKU pairs: {name}", ""]
        if not result["confused"]:
            lines.append("None.")
            continue
        lines += ["| true SKU | predicted | times |", "|---|---|---:|"]
        lines += [f"| {c['truth']} | {c['predicted']} | {c['count']} |" for c in result["confused"]]
    notes = results.get("notes") or []
    if notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def level_summary(report: LevelReport) -> str:
    c, d = report.checkout, report.detection
    return (
        f"cAcc {_pct(c.cacc)}  ACD {_num(c.acd)}  mCCD {_num(c.mccd)}  mCIoU {_pct(c.mciou)}  "
        f"AP50 {_pct(d.ap50)}  recall {_pct(d.recall50)}  precision {_pct(d.precision50)}  "
        f"part {_pct(d.part_boxes)}  group {_pct(d.group_boxes)}  rec@1 {_pct(d.recognition_recall1)}"
    )
