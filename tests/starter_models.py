"""Where the shipped starter models are, as `configs/default.yaml` names them, from any working directory."""

from __future__ import annotations

from pathlib import Path

from trayscan.config import ModelSettings, load_settings

REPO = Path(__file__).resolve().parents[1]


def starter_model_settings() -> ModelSettings:
    models = load_settings(REPO / "configs" / "default.yaml").models
    scorer = models.box_scorer_dir and REPO / models.box_scorer_dir
    return models.model_copy(update={
        "detector_dir": REPO / models.detector_dir, "embedder_dir": REPO / models.embedder_dir, "box_scorer_dir": scorer
    })
