"""Admin writes are rate-limited per client address: a token bucket of `limits.admin_writes_per_minute`.

A leaked or guessed token cannot flood the catalog and gallery; a clerk enrolling by hand never comes near the
default (600 a minute, the whole minute's worth usable as a burst). Over it: 429 `too_many_requests` with
`Retry-After` in seconds. Checkouts and reads are not limited here.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from fastapi import HTTPException, Request

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


class TokenBuckets:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens a second
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, when)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0.0 when the client may go on; else the seconds until it may."""
        now = self.clock()
        with self._lock:
            tokens, when = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - when) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            if len(self._buckets) > 10_000:  # forget clients whose buckets are full again
                full = [key for key, (t, w) in self._buckets.items() if t + (now - w) * self.rate >= self.capacity]
                for key in full:
                    del self._buckets[key]
            return (1.0 - tokens) / self.rate


def limit_admin_writes(request: Request) -> None:
    """Router dependency of the admin routes: writes take a token of the client's bucket."""
    if request.method not in WRITE_METHODS:
        return
    buckets: TokenBuckets = request.app.state.admin_write_buckets
    client = request.client.host if request.client else "unknown"
    wait = buckets.take(client)
    if wait > 0:
        raise HTTPException(
            429, f"too many admin writes: retry in {math.ceil(wait)} s", headers={"Retry-After": str(math.ceil(wait))}
        )
