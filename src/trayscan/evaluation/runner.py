"""Runs every tray through a recogniser, in-process or over HTTP, and keeps its predictions and timings.

In-process, `recognize(bytes) -> Recognition` is trayscan's `Recognizer` or the PP-ShiTu baseline. Over HTTP each
tray is POSTed to `/v1/checkout` and the receipt's items (one box per detection) and unrecognised boxes are read
back. A tray that fails (an error status, a refused image) is kept with no predictions and its reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from trayscan.config import PipelineSettings
from trayscan.errors import TrayscanError
from trayscan.evaluation.data import Tray, image_path
from trayscan.evaluation.http_client import ApiClient
from trayscan.evaluation.metrics import PredictedItem
from trayscan.pipeline.box_scorer import BoxScorer
from trayscan.pipeline.recognize import Observation, Recognition, RecognizedBox, Recognizer, select_boxes
from trayscan.progress import Progress, bar, no_progress


def tray_progress(quiet: bool) -> Progress[Any]:
    """Progress bars counting trays on stderr, or none when `quiet`."""
    return bar(quiet, unit="tray")


@dataclass(frozen=True)
class TrayRun:
    predictions: list[PredictedItem]
    latency_ms: float  # wall time of the whole call (HTTP round trip included)
    timings_ms: dict[str, float] = field(default_factory=dict)  # the pipeline's own stage timings
    error: str | None = None


class RecognizeFn(Protocol):
    def recognize(self, data: bytes) -> Recognition: ...


def from_recognition(recognition: Recognition) -> list[PredictedItem]:
    return from_boxes(recognition.boxes)


def from_boxes(boxes: list[RecognizedBox]) -> list[PredictedItem]:
    return [PredictedItem(found.box, found.score, found.decision.sku) for found in boxes]


def _box(values: Sequence[float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in values)
    return (x1, y1, x2, y2)


def from_receipt(receipt: dict[str, Any]) -> list[PredictedItem]:
    predicted = [
        PredictedItem(_box(d["box"]), float(d["score"]), str(item["sku"]))
        for item in receipt.get("items", [])
        for d in item.get("detections", [])
    ]
    predicted += [
        PredictedItem(_box(u["box"]), float(u["score"]), None) for u in receipt.get("unrecognized", [])
    ]
    return predicted


def failure(error: TrayscanError) -> str:
    """A refused tray's reason, as the service's 4xx answer gives it."""
    return f"{error.code}: {error.detail}"


class InProcess:
    def __init__(self, recognizer: RecognizeFn) -> None:
        self.recognizer = recognizer

    def __call__(self, data: bytes, filename: str) -> TrayRun:
        start = time.perf_counter()
        try:
            recognition = self.recognizer.recognize(data)
        except TrayscanError as error:
            return TrayRun([], (time.perf_counter() - start) * 1000.0, error=failure(error))
        latency = (time.perf_counter() - start) * 1000.0
        return TrayRun(from_recognition(recognition), latency, dict(recognition.timings_ms))


class OverHttp:
    def __init__(self, client: ApiClient) -> None:
        self.client = client

    def __call__(self, data: bytes, filename: str) -> TrayRun:
        start = time.perf_counter()
        try:
            response = self.client.checkout(data, filename)
        except OSError as error:  # connection refused, reset, timeout
            return TrayRun([], (time.perf_counter() - start) * 1000.0, error=f"connection: {error}")
        latency = (time.perf_counter() - start) * 1000.0
        if not response.ok or not isinstance(response.body, dict):
            return TrayRun([], latency, error=response.reason())
        return TrayRun(from_receipt(response.body), latency, dict(response.body.get("timings_ms", {})))


def run_trays(
    trays: Sequence[Tray],
    images_dir: Path,
    run_one: Callable[[bytes, str], TrayRun],
    progress: Progress[Tray] = no_progress,
    description: str = "trays",
) -> list[TrayRun]:
    runs = []
    for tray in progress(trays, len(trays), description):
        path = image_path(images_dir, tray)
        runs.append(run_one(path.read_bytes(), path.name))
    return runs


@dataclass(frozen=True)
class ObservedTray:
    observation: Observation | None  # None: the tray failed (its reason in `error`)
    latency_ms: float
    error: str | None = None


def observe_trays(
    trays: Sequence[Tray],
    images_dir: Path,
    recognizer: Recognizer,
    floor: float,
    progress: Progress[Tray] = no_progress,
    description: str = "trays",
) -> list[ObservedTray]:
    """Every tray through the models once, boxes down to `floor`: what `replay` chooses from."""
    observed = []
    for tray in progress(trays, len(trays), description):
        data = image_path(images_dir, tray).read_bytes()
        start = time.perf_counter()
        try:
            observation = recognizer.observe(data, floor)
        except TrayscanError as error:
            observed.append(ObservedTray(None, (time.perf_counter() - start) * 1000.0, failure(error)))
            continue
        observed.append(ObservedTray(observation, (time.perf_counter() - start) * 1000.0))
    return observed


def replay(
    observed: Sequence[ObservedTray], settings: PipelineSettings, scorer: BoxScorer | None = None
) -> list[TrayRun]:
    """The runs the box settings would have given: the same as running each tray with them (latency and timings
    are the observation's, made at the lowest threshold of the sweep)."""
    return [
        TrayRun([], tray.latency_ms, error=tray.error) if tray.observation is None
        else TrayRun(
            from_boxes(select_boxes(tray.observation, settings, scorer)),
            tray.latency_ms,
            dict(tray.observation.timings_ms),
        )
        for tray in observed
    ]
