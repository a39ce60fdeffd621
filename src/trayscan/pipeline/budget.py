"""A bound on the decoded pixels alive at once: small uploads can declare huge images (a 631-byte JPEG or a
105 kB all-zero PNG of 6000x6000 decodes to 108 MB), and eight of them at once took the server from 0.58 to
2.4 GB (2026-12-03). A decode holds its pixel count from before decoding until its image is no longer needed;
when the budget is spent the next one waits. An image larger than the whole budget runs alone."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class PixelBudget:
    def __init__(self, pixels: int) -> None:
        self.pixels = pixels
        self.in_use = 0
        self._changed = threading.Condition()

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        with self._changed:
            while self.in_use > 0 and self.in_use + pixels > self.pixels:
                self._changed.wait()
            self.in_use += pixels
        try:
            yield
        finally:
            with self._changed:
                self.in_use -= pixels
                self._changed.notify_all()
