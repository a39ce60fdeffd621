"""Summary statistics of timings and a description of the machine, shared by `trayscan bench` and `eval`."""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import numpy as np


def summarize(values_ms: Sequence[float]) -> dict[str, float | int | None]:
    """n, median, p95, p99 and mean of timings in milliseconds (None when there are none)."""
    if not values_ms:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "mean": None}
    v = np.asarray(values_ms, dtype=np.float64)
    return {
        "n": len(v),
        "p50": round(float(np.percentile(v, 50)), 3),
        "p95": round(float(np.percentile(v, 95)), 3),
        "p99": round(float(np.percentile(v, 99)), 3),
        "mean": round(float(v.mean()), 3),
    }


def stage_medians(timings: Sequence[dict[str, float]]) -> dict[str, float]:
    """Median of each stage over runs (stages missing from a run are left out of its median)."""
    stages: dict[str, list[float]] = {}
    for run in timings:
        for stage, ms in run.items():
            stages.setdefault(stage, []).append(ms)
    return {stage: round(float(np.median(ms)), 3) for stage, ms in stages.items()}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    memory_gib = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        memory_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    packages = ("numpy", "faiss-cpu", "onnxruntime", "paddlepaddle", "opencv-python-headless", "fastapi")
    return {
        "cpu": _cpu_model(),
        "cores": len(affinity) if affinity is not None else os.cpu_count(),
        "memory_gib": memory_gib,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "packages": {name: v for name in packages if (v := _version(name)) is not None},
    }


def machine_line(info: dict[str, Any]) -> str:
    pkgs = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB, Python {info['python']}, "
        f"load {info['load_avg_1m']} at start; {pkgs}"
    )
