"""`trayscan models ...`: inspect a model directory, convert a Paddle model to ONNX, write official configs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from trayscan.inference.convert import ConversionError, convert, paddle_model_files
from trayscan.inference.loader import CONFIG_NAMES, read_model_config

OFFICIAL_KINDS = {"detector": "detector_dir", "embedder": "embedder_dir"}


def _convert(args: argparse.Namespace) -> int:
    """paddle2onnx of SRC's Paddle model into DST/inference.onnx, with SRC's infer_cfg.yml copied along."""
    src, dst = Path(args.src), Path(args.dst)
    try:
        log = convert(src, dst / "inference.onnx", opset=args.opset)
    except (ConversionError, FileNotFoundError) as err:
        print(f"trayscan models convert: {err}", file=sys.stderr)
        return 1
    for name in CONFIG_NAMES:
        if (src / name).exists() and not (dst / name).exists():
            (dst / name).write_text((src / name).read_text(encoding="utf-8"), encoding="utf-8")
    (dst / "paddle2onnx.log").write_text(log, encoding="utf-8")
    print(f"wrote {dst / 'inference.onnx'}")
    return 0


def write_official_configs(config_path: Path) -> list[Path]:
    """Write each official model's documented preprocessing as its infer_cfg.yml where the download lacks one."""
    cfg = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    written = []
    for kind, dir_key in OFFICIAL_KINDS.items():
        model_dir = Path(cfg["models"][dir_key])
        target = model_dir / "infer_cfg.yml"
        if not model_dir.is_dir() or target.exists():
            continue
        header = f"# Written from {config_path} (documented PP-ShiTu preprocessing) by `trayscan models write-cfg`.\n"
        target.write_text(header + yaml.safe_dump(cfg["official_preprocess"][kind], sort_keys=False), encoding="utf-8")
        written.append(target)
    return written


def _write_cfg(args: argparse.Namespace) -> int:
    for path in write_official_configs(Path(args.config)):
        print(f"wrote {path}")
    return 0


def _info(args: argparse.Namespace) -> int:
    model_dir = Path(args.model_dir)
    files = sorted(p.name for p in model_dir.iterdir()) if model_dir.is_dir() else []
    print(f"{model_dir}: {', '.join(files) or 'missing'}")
    try:
        program, _ = paddle_model_files(model_dir)
        print(f"paddle program: {program.name}")
    except FileNotFoundError:
        print("paddle program: none")
    print(yaml.safe_dump(read_model_config(model_dir), sort_keys=False))
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="trayscan models")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("convert", help="Paddle inference model (Paddle 3 .json or 2.x .pdmodel) -> ONNX")
    p.add_argument("src", help="folder with inference.json|.pdmodel + inference.pdiparams")
    p.add_argument("dst", help="output folder (may equal src)")
    p.add_argument("--opset", type=int, default=13)
    p.set_defaults(func=_convert)
    p = sub.add_parser("write-cfg", help="write official models' infer_cfg.yml from a config's official_preprocess")
    p.add_argument("config", nargs="?", default="configs/official-ppshitu.yaml")
    p.set_defaults(func=_write_cfg)
    p = sub.add_parser("info", help="files and preprocessing of a model folder")
    p.add_argument("model_dir")
    p.set_defaults(func=_info)
    args = parser.parse_args(argv)
    return int(args.func(args))
