"""`trayscan train box-scorer`: learn which observed boxes are items (pipeline/box_scorer.py) on validation worlds.

Each world (`trayscan synth` output: annotations.json, catalog.csv, enrol/) is enrolled into a throwaway service
with the service's own code and every tray goes through the models once, boxes down to --floor. A box is an item
when it claims a true item at IoU >= 0.5 (greedy by score, as the metrics match). A logistic regression on the
standardised `BOX_FEATURES` is fitted by Newton's method (deterministic: no seed), and its probability threshold
is the one with the most exact receipts on the same trays. With two or more worlds, each world is also scored
by a scorer fitted on the others only, beside the threshold rule: the figure that says whether it generalises.

Needs only the runtime (no Paddle): it runs the exported models as the service does. Do not train on trays
that any reported figure is measured on.
"""

from __future__ import annotations

import argparse
import shlex
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from trayscan import compose
from trayscan.config import Settings, load_settings
from trayscan.evaluation.data import Tray, load_annotations
from trayscan.evaluation.local import empty_service, enrol_catalog, read_catalog
from trayscan.evaluation.metrics import CheckoutMetrics, PredictedItem, evaluate, match_boxes
from trayscan.evaluation.runner import ObservedTray, observe_trays, replay, tray_progress
from trayscan.inference.base import Detection
from trayscan.pipeline.box_scorer import BOX_FEATURES, BoxScorer, features_from, sigmoid, weights_fingerprint

THRESHOLDS = tuple(round(0.3 + 0.05 * i, 2) for i in range(9))  # 0.30 ... 0.70


@dataclass
class World:
    folder: Path
    split: str
    trays: list[Tray]
    observed: list[ObservedTray]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="trayscan train box-scorer", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--world", action="append", required=True, metavar="DIR[:SPLIT]",
        help="a `trayscan synth` folder and the catalog split to enrol (train, novel or all; default all)",
    )
    p.add_argument("--out", type=Path, required=True, help="folder for box_scorer.json")
    p.add_argument("--config", type=Path, help="service settings YAML: the models and pipeline scored")
    p.add_argument("--floor", type=float, default=0.3, help="weakest detector score the scorer sees")
    p.add_argument("--l2", type=float, default=1.0, help="L2 penalty on the standardised weights")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p.parse_args(argv)


def box_labels(detections: list[Detection], tray: Tray) -> np.ndarray:
    """1 for each box that claims a true item at IoU >= 0.5, best score first (the metrics' matching)."""
    predicted = [PredictedItem(d.box, d.score, None) for d in detections]
    return np.array([m is not None for m in match_boxes([item.box for item in tray.items], predicted)], float)


def examples(worlds: list[World], floor: float) -> tuple[np.ndarray, np.ndarray]:
    features, labels = [np.zeros((0, len(BOX_FEATURES)))], [np.zeros(0)]
    for world in worlds:
        for tray, observed in zip(world.trays, world.observed, strict=True):
            if observed.observation is None:
                continue
            detections = observed.observation.detections
            seen, tray_features = features_from(detections, observed.observation.decisions, floor)
            features.append(tray_features)
            labels.append(box_labels([detections[i] for i in seen], tray))
    return np.concatenate(features), np.concatenate(labels)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 50) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(mean, scale, weights, bias) minimising log-loss + l2/2 |weights|^2 on standardised features."""
    mean = x.mean(axis=0)
    scale = np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    theta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = sigmoid(z @ theta)
        gradient = z.T @ (p - y) + penalty * theta
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty) + 1e-9 * np.eye(z.shape[1])
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-10:
            break
    return mean, scale, theta[:-1], float(theta[-1])


def receipts(worlds: list[World], settings: Settings, scorer: BoxScorer | None) -> CheckoutMetrics:
    """Checkout metrics of the worlds' trays with the boxes the scorer (None: the threshold rule) keeps."""
    pipeline = settings.pipeline.model_copy(update={"box_scorer": scorer is not None})
    trays = [tray for world in worlds for tray in world.trays]
    runs = [run for world in worlds for run in replay(world.observed, pipeline, scorer)]
    return evaluate(trays, [run.predictions for run in runs]).overall.checkout


def fit(worlds: list[World], settings: Settings, floor: float, l2: float, models: dict[str, str]) -> BoxScorer:
    """A scorer fitted on the worlds, with the threshold that gives them the most exact receipts (then least ACD).
    `models`: the BoxScorer fields naming the models (detector, embedder and their weights' fingerprints)."""
    x, y = examples(worlds, floor)
    if len(y) == 0 or y.min() == y.max():
        raise SystemExit("every observed box is an item, or none is: there is nothing to tell apart (more trays?)")
    mean, scale, weights, bias = fit_logistic(x, y, l2)
    scorer = BoxScorer(
        mean.tolist(), scale.tolist(), weights.tolist(), bias, 0.5, floor, **models,
        trained_on={"boxes": len(y), "items": int(y.sum())},
    )

    def quality(threshold: float) -> tuple[float, float, float]:
        metrics = receipts(worlds, settings, replace(scorer, threshold=threshold))
        return (metrics.cacc or 0.0, -(metrics.acd or 0.0), -abs(threshold - 0.5))

    return replace(scorer, threshold=max(THRESHOLDS, key=quality))


def observe_world(spec: str, settings: Settings, models: tuple[Any, Any], floor: float, quiet: bool, tmp: Path) -> World:
    folder_text, _, split = spec.partition(":")
    folder, split = Path(folder_text), split or "all"
    if split not in ("train", "novel", "all"):
        raise SystemExit(f"--world {spec}: split must be train, novel or all")
    annotations = folder / "annotations.json"
    if not annotations.is_file():
        raise SystemExit(f"--world {spec}: {annotations} not found (make it with `trayscan synth`)")
    service = empty_service(*models, settings, tmp / folder.name)
    try:
        enrol_catalog(service, read_catalog(folder / "catalog.csv", settings), folder / "enrol", split)
        trays = load_annotations(annotations).trays
        observed = observe_trays(trays, folder, service.recognizer, floor, tray_progress(quiet), folder.name)
    finally:
        service.catalog.close()
    return World(folder, split, trays, observed)


def _line(name: str, metrics: CheckoutMetrics, trays: int) -> str:
    exact = round((metrics.cacc or 0.0) * trays)
    return f"| {name} | {trays} | {exact} | {metrics.acd:.3f} |"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    settings = load_settings(args.config)
    # The observations do not depend on a scorer; this one may not exist yet.
    settings = settings.model_copy(update={"models": settings.models.model_copy(update={"box_scorer_dir": None})})
    detector, embedder = compose.load_models(settings)
    # Names and weights' fingerprints: the scorer is used only with exactly these models.
    models = {
        "detector": detector.name,
        "embedder": embedder.name,
        "detector_weights": weights_fingerprint(settings.models.detector_dir),
        "embedder_weights": weights_fingerprint(settings.models.embedder_dir),
    }
    with tempfile.TemporaryDirectory(prefix="trayscan-box-scorer-") as tmp:
        worlds = [
            observe_world(spec, settings, (detector, embedder), args.floor, args.quiet, Path(tmp))
            for spec in args.world
        ]
    scorer = fit(worlds, settings, args.floor, args.l2, models)
    scorer = replace(scorer, trained_on={
        **scorer.trained_on,
        "worlds": [f"{w.folder}:{w.split}" for w in worlds],
        "trays": sum(len(w.trays) for w in worlds),
        "l2": args.l2,
        "command": "trayscan train box-scorer " + shlex.join(argv),
    })
    path = scorer.save(args.out)
    print(f"wrote {path}: {scorer.trained_on['boxes']} boxes ({scorer.trained_on['items']} items) of "
          f"{scorer.trained_on['trays']} trays, threshold {scorer.threshold}, models {scorer.detector} + {scorer.embedder}")
    print("\n| world, boxes chosen by | trays | exact receipts | ACD |\n|---|---:|---:|---:|")
    for world in worlds:
        count = len(world.trays)
        print(_line(f"{world.folder.name}, threshold rule", receipts([world], settings, None), count))
        print(_line(f"{world.folder.name}, this scorer (trained on it)", receipts([world], settings, scorer), count))
        others = [w for w in worlds if w is not world]
        if others:
            held_out = fit(others, settings, args.floor, args.l2, models)
            print(_line(
                f"{world.folder.name}, a scorer fitted on the other worlds only (threshold {held_out.threshold})",
                receipts([world], settings, held_out), count,
            ))
    return 0
