"""Paddle inference model -> ONNX with paddle2onnx (optional extra `trayscan[paddle]`).

paddle2onnx runs as a subprocess because it can print a conversion error and still exit 0: its log is
scanned, and the produced file must exist and load. No optimizer pass: ONNX Runtime optimises the graph at load, and the default
polygraphy pass pip-installs packages during a conversion (shared/NOTES.md).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

_ERROR_LINE = re.compile(r"(\[ERROR\]|Error:|Traceback|Unsupported|not supported|fail)", re.IGNORECASE)


class ConversionError(RuntimeError):
    """paddle2onnx did not produce a usable ONNX model."""


def paddle_model_files(model_dir: Path) -> tuple[Path, Path]:
    """The program + params of a Paddle export: Paddle 3 `inference.json` or Paddle 2.x `inference.pdmodel`."""
    for program in ("inference.json", "inference.pdmodel", "model.json", "model.pdmodel"):
        path = model_dir / program
        params = path.with_suffix(".pdiparams")
        if path.exists() and params.exists():
            return path, params
    raise FileNotFoundError(f"{model_dir}: no inference.json/.pdmodel with matching .pdiparams")


def paddle2onnx_command() -> list[str]:
    exe = shutil.which("paddle2onnx") or str(Path(sys.executable).with_name("paddle2onnx"))
    if not Path(exe).exists():
        raise ConversionError("paddle2onnx is not installed (pip install 'trayscan[paddle]')")
    return [exe]


def convert(model_dir: Path, dst: Path, opset: int = 13) -> str:
    """Write `dst` (.onnx) from the Paddle model in `model_dir`; returns the converter log."""
    program, params = paddle_model_files(model_dir)
    dst.parent.mkdir(parents=True, exist_ok=True)
    cmd = paddle2onnx_command() + [
        "--model_dir", str(model_dir), "--model_filename", program.name, "--params_filename", params.name,
        "--save_file", str(dst), "--opset_version", str(opset), "--optimize_tool", "None",
        "--enable_onnx_checker", "True",
    ]
    # Never let a converter pip-install into this environment (polygraphy's auto-install, shared/NOTES.md).
    env = {**os.environ, "POLYGRAPHY_AUTOINSTALL_DEPS": "0"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    log = proc.stdout + proc.stderr
    bad = [line for line in log.splitlines() if _ERROR_LINE.search(line) and "UserWarning" not in line]
    if proc.returncode != 0 or bad or not dst.exists() or dst.stat().st_size == 0:
        raise ConversionError(f"paddle2onnx failed (exit {proc.returncode}):\n" + "\n".join(bad or log.splitlines()[-20:]))
    _check_loads(dst)
    return log


def _check_loads(path: Path) -> None:
    import onnxruntime as ort

    try:
        opts = ort.SessionOptions()
        opts.log_severity_level = 3  # unused-initializer notes from converted graphs are noise here
        ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as err:  # any load failure means the conversion is unusable
        raise ConversionError(f"{path} does not load in ONNX Runtime: {err}") from err
