"""The issue's speed and memory targets, checked against what a bench run measured (met, missed, not measured)."""

from __future__ import annotations

from typing import Any

from trayscan.bench.pipeline import as_deployed_ratios

TRAY_P50_MS = 60.0
SPEEDUP = 3.0
HTTP_TRAYS_PER_S = 15.0
SEARCH_P99_MS = 2.0
SEARCH_RECALL = 0.99
ENROL_MS = 100.0
RSS_MB = 1024.0


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _pipeline_lines(part: dict[str, Any] | None) -> list[str]:
    engines = [e for e in (part or {}).get("engines", []) if "items" in e and "10" in e["items"]]
    if not engines:
        return [
            f"- 10-item tray in-process p50 <= {TRAY_P50_MS:.0f} ms, >= {SPEEDUP:.0f}x the PP-ShiTu way: not measured"
        ]
    lines = []
    for engine in engines:
        ten = engine["items"]["10"]
        p50, ratio = ten["trayscan"]["total_ms"]["p50"], ten["ppshitu_over_trayscan_p50"]
        lines.append(
            f"- {engine['engine']}: 10-item tray p50 {p50:.1f} ms (target <= {TRAY_P50_MS:.0f}): "
            f"{_verdict(p50 <= TRAY_P50_MS)}; PP-ShiTu way / trayscan {ratio:.2f}x (target >= {SPEEDUP:.0f}x): "
            f"{_verdict(ratio is not None and ratio >= SPEEDUP)}"
        )
        enrol = engine["enrolment"]["ms_per_image"]["p50"]
        if enrol is not None:
            lines.append(
                f"- {engine['engine']}: enrolment p50 {enrol:.1f} ms per image (target <= {ENROL_MS:.0f}): "
                f"{_verdict(enrol <= ENROL_MS)}"
            )
    deployed = as_deployed_ratios(part or {}).get("10")
    if deployed is not None:
        lines.append(
            f"- as deployed (PP-ShiTu way on Paddle Inference / trayscan on ONNX Runtime), 10-item tray: "
            f"{deployed:.2f}x (target >= {SPEEDUP:.0f}x): {_verdict(deployed >= SPEEDUP)}"
        )
    return lines


def _http_lines(part: dict[str, Any] | None) -> list[str]:
    servers = (part or {}).get("servers", [])
    lines = []
    for server in servers:
        four = next((t for t in server["load"] if t["clients"] == 4), None)
        if four is not None and server is servers[0]:
            ok = (four["trays_per_s"] or 0) >= HTTP_TRAYS_PER_S and four["errors"] == 0
            lines.append(
                f"- HTTP, 4 clients: {four['trays_per_s']} trays/s, {four['errors']} errors "
                f"(target >= {HTTP_TRAYS_PER_S:.0f}/s, 0 errors): {_verdict(ok)}"
            )
        memory = server.get("memory") or {}
        size = server.get("gallery_size")
        if memory.get("peak_rss_mb") is not None and size is not None and size >= 100_000:
            peak, now = memory["peak_rss_mb"], memory["rss_mb"]
            lines.append(
                f"- server RSS with {size:,} vectors: peak {peak} MB, after load {now} MB "
                f"(target <= {RSS_MB:.0f} MB): {_verdict(peak <= RSS_MB)}"
            )
    return lines or ["- HTTP throughput and server RSS: not measured"]


def _gallery_lines(part: dict[str, Any] | None) -> list[str]:
    sizes = (part or {}).get("sizes", [])
    if not sizes:
        return ["- gallery search at 1M vectors: not measured"]
    lines = []
    for size in sizes:
        for threads, row in size["chosen"].items():
            p50, p99, recall = row["latency_ms"]["p50"], row["latency_ms"]["p99"], row["recall1"]
            ok = p99 <= SEARCH_P99_MS and recall >= SEARCH_RECALL
            verdict = _verdict(ok) if size["vectors"] >= 1_000_000 else ("within" if ok else "over")
            lines.append(
                f"- gallery search at {size['vectors']:,} vectors, {threads} Faiss thread(s), efSearch "
                f"{row['ef_search']}: p50 {p50:.3f} ms, p99 {p99:.3f} ms, recall@1 {recall:.4f} "
                f"(target at 1M: p99 <= {SEARCH_P99_MS:.0f} ms, recall@1 >= {SEARCH_RECALL}): {verdict}"
            )
    if max(size["vectors"] for size in sizes) < 1_000_000:
        lines.append(
            "- gallery search at 1M vectors: not measured in this run (`--sizes 10000,100000,1000000`)"
        )
    return lines


def markdown(parts: dict[str, Any]) -> list[str]:
    lines = ["## Targets of the issue against this run", ""]
    lines += _pipeline_lines(parts.get("pipeline"))
    lines += _http_lines(parts.get("http"))
    lines += _gallery_lines(parts.get("gallery"))
    return lines + [""]
