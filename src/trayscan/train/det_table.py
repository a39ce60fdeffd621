"""`trayscan train detector-table`: one markdown table from several `detector-eval --json` files.

A row per file (model x trays): AP50, recall at any score, recall / precision and part / group boxes at one score
threshold, and the share of trays with every item found. Model cards and ablations quote these tables.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

COLUMNS = ("model", "trays", "AP50", "recall", "recall / precision @{t}", "part / group boxes @{t}",
           "trays all found")


def row(result: dict, threshold: float) -> list[str]:
    acc = result["accuracy"]

    def pct(key: str) -> str:
        return f"{100 * acc[key]:.1f} %"

    return [f"`{result['model']}`", f"`{result['data']}` ({result['trays']})", f"{acc['ap50']:.3f}",
            f"{acc['recall50']:.3f}",
            f"{acc[f'recall50@{threshold}']:.3f} / {acc[f'precision50@{threshold}']:.3f}",
            f"{pct(f'part_boxes@{threshold}')} / {pct(f'group_boxes@{threshold}')}", pct("images_all_found")]


def table(results: list[dict], threshold: float) -> str:
    head = [c.format(t=threshold) for c in COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row(r, threshold)) + " |" for r in results]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="trayscan train detector-table", description=__doc__)
    p.add_argument("json", type=Path, nargs="+", help="detector-eval --json outputs")
    p.add_argument("--threshold", type=float, default=0.4, choices=(0.2, 0.3, 0.4, 0.5),
                   help="score threshold (detector-eval reports these four)")
    p.add_argument("--markdown", type=Path, help="write the table here too")
    args = p.parse_args(argv)
    text = table([json.loads(f.read_text()) for f in args.json], args.threshold)
    print(text, end="")
    if args.markdown:
        args.markdown.write_text(text)
    return 0
