"""`load_detector` / `load_embedder`: a model directory + engine name -> a ready Detector / Embedder.

A model directory holds the exported model (`inference.onnx` and/or Paddle `inference.json|.pdmodel` +
`inference.pdiparams`) and `infer_cfg.yml` with its preprocessing: PaddleDetection's export format for
detectors (`Preprocess` list), PaddleClas `RecPreProcess.transform_ops` for embedders. Official PaddleClas
embedders that ship without it get it written from configs/official-ppshitu.yaml (`trayscan models write-cfg`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from trayscan.inference.base import Detector, Embedder
from trayscan.inference.engines import open_engine
from trayscan.inference.models import ModelDetector, ModelEmbedder
from trayscan.inference.preprocess import DetPreprocess, PreprocessError, RecPreprocess

CONFIG_NAMES = ("infer_cfg.yml", "inference.yml")


def read_model_config(model_dir: Path) -> dict[str, Any]:
    for name in CONFIG_NAMES:
        path = model_dir / name
        if path.exists():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise PreprocessError(f"{path}: not a mapping")
            return data
    raise FileNotFoundError(f"{model_dir}: no {' or '.join(CONFIG_NAMES)} with the model's preprocessing")


def rec_transform_ops(cfg: Mapping[str, Any]) -> list[Any]:
    """PaddleClas names the section RecPreProcess (deploy configs) or PreProcess (exported inference.yml)."""
    for key in ("RecPreProcess", "PreProcess"):
        section = cfg.get(key)
        if isinstance(section, Mapping) and "transform_ops" in section:
            return list(section["transform_ops"])
    raise PreprocessError("embedder config has no RecPreProcess.transform_ops")


def load_embedder(model_dir: str | Path, engine: str = "onnx", threads: int = 2,
                  preprocess: Mapping[str, Any] | None = None) -> Embedder:
    """`preprocess` (a config mapping like infer_cfg.yml) overrides the one in the directory."""
    model_dir = Path(model_dir)
    cfg = dict(preprocess) if preprocess is not None else read_model_config(model_dir)
    pre = RecPreprocess.from_transform_ops(rec_transform_ops(cfg))
    dim = int(cfg.get("embedding_dim", 512))
    return ModelEmbedder(open_engine(model_dir, engine, threads), pre, name=model_dir.name, dim=dim)


def load_detector(model_dir: str | Path, engine: str = "onnx", threads: int = 2,
                  preprocess: Mapping[str, Any] | None = None) -> Detector:
    model_dir = Path(model_dir)
    cfg = dict(preprocess) if preprocess is not None else read_model_config(model_dir)
    if "Preprocess" not in cfg:
        raise PreprocessError(f"{model_dir}: detector config has no Preprocess list (PaddleDetection export format)")
    pre = DetPreprocess.from_infer_cfg(cfg["Preprocess"])
    return ModelDetector(open_engine(model_dir, engine, threads), pre, name=model_dir.name)
