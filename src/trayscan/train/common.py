"""Pieces every training command shares: seeding, thread limits, timed checkpoints with resume, progress lines.

Generic on purpose (the detector and the embedder both use them); paddle is imported inside functions so the
module can be imported (and linted) without it.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


def seed_everything(seed: int) -> None:
    """Same seed, same run: python, numpy and paddle generators."""
    import paddle

    random.seed(seed)
    np.random.seed(seed % 2**32)
    paddle.seed(seed)


def set_device_and_threads(device: str, threads: int) -> None:
    """Pick cpu/gpu; on CPU cap math threads so parallel trainings on 2 cores do not oversubscribe."""
    import paddle

    if device == "cpu":
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        paddle.set_device("cpu")
        # Paddle reads this at first kernel launch; setting it here covers runs started without the env var.
        paddle.set_flags({"FLAGS_use_mkldnn": False})
        set_threads = getattr(paddle.base.core, "set_num_threads", None)  # absent: OMP_NUM_THREADS applies
        if set_threads is not None:
            set_threads(threads)
    else:
        paddle.set_device("gpu")


@dataclass
class Checkpointer:
    """Saves model + optimizer + small state every `every_s` seconds (atomically) and restores the latest.

    Layout: DIR/last.pdparams, DIR/last.pdopt, DIR/last.json. A rerun with resume picks up from there.
    """

    directory: Path
    every_s: float = 180.0
    _last_save: float = field(default_factory=time.monotonic)

    @property
    def state_path(self) -> Path:
        return self.directory / "last.json"

    def exists(self) -> bool:
        return self.state_path.exists()

    def due(self) -> bool:
        return time.monotonic() - self._last_save >= self.every_s

    def save(self, model: Any, optimizer: Any, state: dict[str, Any]) -> None:
        import paddle

        self.directory.mkdir(parents=True, exist_ok=True)
        # Write to temp names then rename: a kill during save never leaves a half-written checkpoint.
        for suffix, obj in ((".pdparams", model.state_dict()), (".pdopt", optimizer.state_dict())):
            tmp = self.directory / f"last{suffix}.tmp"
            paddle.save(obj, str(tmp))
            os.replace(tmp, self.directory / f"last{suffix}")
        tmp_json = self.directory / "last.json.tmp"
        tmp_json.write_text(json.dumps(state, indent=1))
        os.replace(tmp_json, self.state_path)
        self._last_save = time.monotonic()

    def load(self, model: Any, optimizer: Any) -> dict[str, Any]:
        import paddle

        model.set_state_dict(paddle.load(str(self.directory / "last.pdparams")))
        opt_path = self.directory / "last.pdopt"
        if opt_path.exists():  # may be left out of a committed checkpoint to save space: moments restart then
            optimizer.set_state_dict(paddle.load(str(opt_path)))
        else:
            print(f"{opt_path} missing: optimizer state starts fresh", file=sys.stderr, flush=True)
        state: dict[str, Any] = json.loads(self.state_path.read_text())
        return state


class Progress:
    """One line every `every_s` seconds: step/total, rate, ETA and whatever metrics the loop passes."""

    def __init__(self, total_steps: int, every_s: float = 20.0, stream: Any = sys.stdout) -> None:
        self.total = total_steps
        self.every_s = every_s
        self.stream = stream
        self._t0 = time.monotonic()
        self._last = 0.0
        self._first_step: int | None = None

    def update(self, step: int, items: int = 0, force: bool = False, **metrics: float) -> None:
        now = time.monotonic()
        if self._first_step is None:
            self._first_step, self._t0 = step, now
        if not force and now - self._last < self.every_s:
            return
        self._last = now
        elapsed = max(now - self._t0, 1e-9)
        done = step - self._first_step
        rate = done / elapsed
        eta = (self.total - step) / rate if rate > 0 else float("nan")
        parts = [f"step {step}/{self.total}", f"{rate * items:.1f} img/s" if items else f"{rate:.2f} it/s",
                 f"eta {eta / 60:.1f} min"] + [f"{k} {v:.4f}" for k, v in metrics.items()]
        print(" | ".join(parts), file=self.stream, flush=True)
