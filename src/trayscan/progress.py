"""Progress reporting for long loops: a wrapper around an iterable, so library code stays free of tqdm.

Library functions take a `Progress` (identity by default); the command lines pass `bar(...)`, which shows tqdm
progress bars on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")
# (items, total, description) -> the same items, shown as they pass.
Progress = Callable[[Iterable[T], int, str], Iterable[T]]


def no_progress(items: Iterable[T], total: int, description: str) -> Iterable[T]:
    return items


def bar(quiet: bool = False, unit: str = "it") -> Progress[Any]:
    """Progress bars on stderr counting `unit`s, or none when `quiet`."""

    def progress(items: Iterable[Any], total: int, description: str) -> Iterable[Any]:
        return items if quiet else tqdm(items, total=total, desc=description, unit=unit, file=sys.stderr)

    return progress
