"""The one way CPU work (decoding, inference, index search, SQL) leaves the event loop: a bounded thread pool."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, TypeVarTuple

import anyio.to_thread
from anyio import CapacityLimiter

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class CpuRunner:
    def __init__(self, threads: int) -> None:
        self._limiter = CapacityLimiter(threads)

    async def run(self, function: Callable[[*Ts], T], *args: *Ts) -> T:
        return await anyio.to_thread.run_sync(function, *args, limiter=self._limiter)
