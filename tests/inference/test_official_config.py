"""configs/official-ppshitu.yaml must carry PP-ShiTu's documented preprocessing (PaddleClas
deploy/configs/inference_general.yaml): detector 640x640 without keeping the ratio, cubic resize, ImageNet
mean/std on [0, 1] pixels; embedder 224x224, scale 1/255, ImageNet mean/std, CHW."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
import yaml

from trayscan.inference.cli import write_official_configs
from trayscan.inference.loader import rec_transform_ops
from trayscan.inference.preprocess import DetPreprocess, RecPreprocess

CONFIG = Path(__file__).parents[2] / "configs" / "official-ppshitu.yaml"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@pytest.fixture
def config() -> dict:
    return yaml.safe_load(CONFIG.read_text())


def test_points_at_the_official_model_folders(config: dict) -> None:
    assert Path(config["models"]["detector_dir"]).name == "picodet_PPLCNet_x2_5_mainbody_lite_v1.0_infer"
    assert Path(config["models"]["embedder_dir"]).name == "general_PPLCNetV2_base_pretrained_v1.0_infer"


def test_detector_preprocessing_is_the_documented_one(config: dict) -> None:
    pre = DetPreprocess.from_infer_cfg(config["official_preprocess"]["detector"]["Preprocess"])
    assert pre.target_size == (640, 640)
    assert pre.keep_ratio is False
    assert pre.interpolation == cv2.INTER_CUBIC  # interp: 2
    assert pre.is_scale is True
    assert pre.mean == IMAGENET_MEAN and pre.std == IMAGENET_STD


def test_embedder_preprocessing_is_the_documented_one(config: dict) -> None:
    pre = RecPreprocess.from_transform_ops(rec_transform_ops(config["official_preprocess"]["embedder"]))
    assert (pre.width, pre.height) == (224, 224)
    assert pre.scale == pytest.approx(1 / 255, rel=1e-6)
    assert pre.mean == IMAGENET_MEAN and pre.std == IMAGENET_STD


def test_write_cfg_fills_only_missing_configs(tmp_path: Path, config: dict) -> None:
    det, emb = tmp_path / "det", tmp_path / "emb"
    det.mkdir()
    emb.mkdir()
    (det / "infer_cfg.yml").write_text("shipped: by the download\n")
    config["models"].update(detector_dir=str(det), embedder_dir=str(emb))
    cfg_path = tmp_path / "official.yaml"
    cfg_path.write_text(yaml.safe_dump(config))
    assert write_official_configs(cfg_path) == [emb / "infer_cfg.yml"]
    assert (det / "infer_cfg.yml").read_text() == "shipped: by the download\n"
    written = yaml.safe_load((emb / "infer_cfg.yml").read_text())
    assert RecPreprocess.from_transform_ops(rec_transform_ops(written)).width == 224
