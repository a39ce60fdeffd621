"""The box scorer: its features describe each box among the others; it chooses the items when trained for the
models in use, and the threshold rule chooses otherwise."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from trayscan.boxes import inside_matrix, iou_matrix
from trayscan.config import PipelineSettings
from trayscan.inference.base import Detection
from trayscan.pipeline.box_scorer import (
    BOX_FEATURES,
    FILE_NAME,
    BoxScorer,
    box_features,
    load_box_scorer,
    weights_fingerprint,
)
from trayscan.pipeline.decide import Decision
from trayscan.pipeline.recognize import BOX_SETTINGS, Observation, observation_floor, select_boxes
from trayscan.pipeline.search import Neighbour

ITEM = (0.0, 0.0, 100.0, 100.0)
PART = (0.0, 0.0, 50.0, 100.0)  # the left half of ITEM
OTHER = (200.0, 0.0, 300.0, 100.0)
GROUP = (0.0, 0.0, 300.0, 100.0)  # around ITEM and OTHER


def recognized(sku: str, similarity: float) -> Decision:
    return Decision(sku, similarity, Neighbour(1, sku, similarity))


UNKNOWN = Decision(None, 0.4, Neighbour(2, "X", 0.4))


def column(features: np.ndarray, name: str) -> np.ndarray:
    return features[:, BOX_FEATURES.index(name)]


def test_box_geometry() -> None:
    assert iou_matrix([ITEM], [PART, OTHER, ITEM]).tolist() == [[0.5, 0.0, 1.0]]
    assert inside_matrix([PART, GROUP], [ITEM]).tolist() == [[1.0], [1 / 3]]
    assert iou_matrix([], [ITEM]).shape == (0, 1)


def test_features_describe_each_box_among_the_others() -> None:
    detections = [Detection(ITEM, 0.9), Detection(OTHER, 0.8), Detection(PART, 0.45), Detection(GROUP, 0.35)]
    decisions = [recognized("A", 0.9), recognized("B", 0.85), recognized("A", 0.75), UNKNOWN]
    features = box_features(detections, decisions)
    assert features.shape == (4, len(BOX_FEATURES))
    assert column(features, "score").tolist() == [0.9, 0.8, 0.45, 0.35]
    assert column(features, "recognized").tolist() == [1.0, 1.0, 1.0, 0.0]
    assert column(features, "nearest_similarity")[3] == 0.4
    # The most confident box has nothing above it.
    assert column(features, "iou_higher")[0] == column(features, "inside_higher")[0] == 0.0
    # The part box lies wholly inside a more confident box of its own SKU.
    assert column(features, "inside_higher")[2] == 1.0
    assert column(features, "iou_higher_same_sku")[2] == pytest.approx(0.5)
    assert column(features, "rival_score")[2] == 0.9
    # The group box holds both items, fully.
    assert column(features, "holds_higher")[3] == 1.0
    assert column(features, "boxes_held")[3] == 3  # ITEM, OTHER and PART (scored >= 0.4) lie inside it
    assert column(features, "boxes_held")[0] == 1  # PART lies inside ITEM
    # Sizes against the median confident box (ITEM and OTHER: 100 x 100).
    assert column(features, "log_relative_area")[0] == pytest.approx(0.0, abs=1e-5)
    assert column(features, "log_relative_area")[3] == pytest.approx(np.log(3.0), abs=1e-5)
    assert column(features, "log_aspect")[2] == pytest.approx(np.log(2.0))
    assert box_features([], []).shape == (0, len(BOX_FEATURES))


def score_only(threshold: float = 0.5, floor: float = 0.3) -> BoxScorer:
    """A scorer whose probability is sigmoid(10 * (score - 0.6)): it keeps boxes scored about 0.6 or more."""
    weights = [10.0 if name == "score" else 0.0 for name in BOX_FEATURES]
    size = len(BOX_FEATURES)
    return BoxScorer([0.0] * size, [1.0] * size, weights, -6.0, threshold, floor, "det", "emb")


def observation(detections: list[Detection], decisions: list[Decision]) -> Observation:
    return Observation(detections, decisions, {}, 1)


def test_the_scorer_chooses_the_items_when_on_and_the_rule_when_off() -> None:
    seen = observation(
        [Detection(ITEM, 0.9), Detection(OTHER, 0.55), Detection((400.0, 0, 500, 100), 0.35)],
        [recognized("A", 0.9), recognized("B", 0.9), recognized("C", 0.9)],
    )
    settings = PipelineSettings()
    scorer = score_only()
    assert [b.box for b in select_boxes(seen, settings, scorer)] == [ITEM]
    # The scorer's threshold can be overridden by the settings.
    lower = settings.model_copy(update={"box_score_threshold": 0.2})
    assert [b.box for b in select_boxes(seen, lower, scorer)] == [ITEM, OTHER]
    # Off (or none loaded): the rule keeps the box over 0.5 and the weak box recognized at >= 0.8.
    rule = settings.model_copy(update={"box_scorer": False})
    assert len(select_boxes(seen, rule, scorer)) == len(select_boxes(seen, settings, None)) == 3
    # Kept boxes report the detector's score, not the scorer's probability.
    assert select_boxes(seen, settings, scorer)[0].score == 0.9
    assert observation_floor(settings, scorer) == 0.3
    assert observation_floor(settings, replace(scorer, floor=0.2)) == 0.2
    assert observation_floor(rule, scorer) == observation_floor(settings) == 0.3
    assert {"box_scorer", "box_score_threshold"} <= BOX_SETTINGS


def test_the_scorer_sees_only_boxes_down_to_its_floor() -> None:
    # A box under the floor is not an item, whatever its probability, and does not change the others' features.
    seen = observation([Detection(ITEM, 0.9), Detection(PART, 0.25)], [recognized("A", 0.9), recognized("A", 0.9)])
    keeps_all = replace(score_only(), threshold=0.0)
    assert [b.box for b in select_boxes(seen, PipelineSettings(), keeps_all)] == [ITEM]


def test_saved_scorer_loads_only_for_its_models(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    scorer = score_only()
    scorer.save(tmp_path)
    assert load_box_scorer(tmp_path, "det", "emb") == scorer
    with caplog.at_level(logging.WARNING):
        assert load_box_scorer(tmp_path, "other-det", "emb") is None
    assert "threshold rule" in caplog.text
    assert load_box_scorer(None, "det", "emb") is None
    with pytest.raises(FileNotFoundError, match="box_scorer_dir"):
        load_box_scorer(tmp_path / "missing", "det", "emb")
    saved = (tmp_path / FILE_NAME).read_text()
    (tmp_path / FILE_NAME).write_text(saved.replace('"score"', '"another"'))
    with pytest.raises(ValueError, match="retrain"):
        BoxScorer.load(tmp_path)
    replace(scorer, weights=scorer.weights[:-1]).save(tmp_path)
    with pytest.raises(ValueError, match="damaged"):
        BoxScorer.load(tmp_path)


def test_a_retrained_model_of_the_same_name_does_not_get_the_old_scorer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    detector_dir, embedder_dir = tmp_path / "det", tmp_path / "emb"
    for folder in (detector_dir, embedder_dir):
        folder.mkdir()
        (folder / "model.onnx").write_bytes(b"weights of " + folder.name.encode())
        (folder / "MODEL_CARD.md").write_text("not weights")
    dirs = (detector_dir, embedder_dir)
    fingerprints = (weights_fingerprint(detector_dir), weights_fingerprint(embedder_dir))
    scorer = replace(score_only(), detector_weights=fingerprints[0], embedder_weights=fingerprints[1])
    scorer.save(tmp_path / "scorer")
    assert load_box_scorer(tmp_path / "scorer", "det", "emb", dirs) == scorer
    (detector_dir / "MODEL_CARD.md").write_text("a new card changes nothing")
    assert load_box_scorer(tmp_path / "scorer", "det", "emb", dirs) == scorer
    (detector_dir / "model.onnx").write_bytes(b"retrained weights")
    with caplog.at_level(logging.WARNING):
        assert load_box_scorer(tmp_path / "scorer", "det", "emb", dirs) is None
    assert "other weights" in caplog.text


def test_extreme_features_give_probabilities_not_overflow() -> None:
    features = np.zeros((2, len(BOX_FEATURES)))
    features[0, 0], features[1, 0] = 1e6, -1e6
    with np.errstate(over="raise"):
        assert score_only().probabilities(features).tolist() == pytest.approx([1.0, 0.0])


def test_the_shipped_scorer_is_trained_for_the_starter_models() -> None:
    from tests.starter_models import starter_model_settings

    models = starter_model_settings()
    assert models.box_scorer_dir is not None
    scorer = load_box_scorer(
        models.box_scorer_dir, "mainbody", "lcnet+rot4", (models.detector_dir, models.embedder_dir)
    )
    assert scorer is not None  # names and weights match the shipped models
    assert 0.0 < scorer.threshold < 1.0 and scorer.trained_on["trays"] >= 100
