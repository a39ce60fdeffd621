"""`trayscan train <what>`: dispatch to the training / evaluation command that owns it (imported lazily)."""

from __future__ import annotations

import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "embedder": ("trayscan.train.embedder", "train + export the PP-LCNet ArcMargin embedder"),
    "embedder-eval": ("trayscan.train.embedder_eval", "recall@1 on novel SKUs and speed of an exported embedder"),
    "detector": ("trayscan.train.detector", "train + export the PicoDet mainbody detector"),
    "detector-export": ("trayscan.train.det_export", "export detector weights: Paddle inference + NMS, ONNX"),
    "box-scorer": ("trayscan.train.box_scorer", "learn which observed boxes are items, on validation trays"),
    "detector-eval": ("trayscan.train.det_eval", "recall/AP50 on held-out trays and speed of an exported detector"),
    "detector-table": ("trayscan.train.det_table", "a markdown table from detector-eval --json files"),
    "import-weights": ("trayscan.train.import_weights", "pretrained PicoDet-LCNet / PP-LCNet x1.0 weights from two "
                       "Apache-2.0 ONNX files, as Paddle state dicts, checked against ONNX Runtime"),
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: trayscan train <what> [options]\n\n" +
              "\n".join(f"  {k:<14} {v[1]}" for k, v in COMMANDS.items()))
        return 0
    if argv[0] not in COMMANDS:
        print(f"trayscan train: unknown {argv[0]!r}; one of {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)
