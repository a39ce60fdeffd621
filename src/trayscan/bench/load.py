"""Concurrent HTTP clients of the benchmarks: what each kind of request got, and running the clients together."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trayscan.bench.stats import summarize


@dataclass
class Tally:
    """Latencies of the answers that were right and the reasons of the others, from any number of threads."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def answered(self, latency_ms: float) -> None:
        with self.lock:
            self.latencies.append(latency_ms)

    def failed(self, reason: str) -> None:
        with self.lock:
            self.errors.append(reason)

    def summary(self) -> dict[str, Any]:
        return {"ok": len(self.latencies), "errors": len(self.errors), "error_examples": self.errors[:3],
                "latency_ms": summarize(self.latencies)}


def run_together(clients: list[Callable[[], None]]) -> float:
    """Run every client in a thread of its own, all at once; the wall time in seconds until the last one ends."""
    threads = [threading.Thread(target=client) for client in clients]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start
