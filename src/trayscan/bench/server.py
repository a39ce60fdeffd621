"""A `trayscan serve` child process on a free loopback port, for the HTTP and memory benchmarks.

Its state (catalog, gallery, demo world) lives in a folder the caller chooses, so a second benchmark run reuses
the enrolled demo catalog instead of making it again. Memory is read from /proc: VmHWM (peak resident set since
start, startup included) and VmRSS (now).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from trayscan.evaluation.http_client import ApiClient


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_mb(pid: int) -> dict[str, float | None]:
    values: dict[str, float | None] = {"peak_rss_mb": None, "rss_mb": None}
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
            for line in handle:
                key, _, rest = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    kb = float(rest.split()[0])
                    values["peak_rss_mb" if key == "VmHWM" else "rss_mb"] = round(kb / 1024.0, 1)
    except OSError:
        pass
    return values


class ServerProcess:
    def __init__(
        self, state_dir: Path, env: dict[str, str] | None = None, ready_timeout_s: float = 1200.0
    ) -> None:
        self.state_dir = state_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_token = secrets.token_hex(16)
        self.ready_timeout_s = ready_timeout_s
        self.env = {
            **os.environ,
            "TRAYSCAN_DATA_DIR": str(state_dir),
            "TRAYSCAN_GALLERY__DIR": str(state_dir / "gallery"),
            "TRAYSCAN_ADMIN_TOKEN": self.admin_token,
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_s: float | None = None

    @property
    def log_path(self) -> Path:
        return self.state_dir / "server.log"

    def __enter__(self) -> ServerProcess:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "trayscan.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        start = time.perf_counter()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command + ["--log-level", "warning"], env=self.env, stdout=log, stderr=log
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()  # a server that failed to get ready must not outlive the benchmark
            raise
        self.startup_s = round(time.perf_counter() - start, 1)
        return self

    def _wait_ready(self) -> None:
        client = ApiClient(self.url, timeout_s=5.0)
        deadline = time.monotonic() + self.ready_timeout_s
        reason = "no answer"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; see {self.log_path}")
            try:
                ready = client.get("/readyz")
                if ready.status == 200:
                    return
                reason = ready.body.get("reason", "") if isinstance(ready.body, dict) else ready.reason()
                if reason and reason != "still starting":
                    raise RuntimeError(f"server failed to start: {reason}; see {self.log_path}")
            except OSError:
                pass
            time.sleep(1.0)
        raise TimeoutError(
            f"server not ready after {self.ready_timeout_s:.0f} s ({reason}); see {self.log_path}"
        )

    def memory(self) -> dict[str, float | None]:
        return memory_mb(self.process.pid) if self.process is not None else memory_mb(-1)

    def client(self) -> ApiClient:
        return ApiClient(self.url, self.admin_token)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
