"""Builds the one-class PicoDet from paddledet's architecture code, with the fixes Paddle 3.3 export needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import paddle
import paddle.nn as nn
import yaml

ARCH_CONFIGS = {
    "picodet_s": "picodet_s_320_mainbody.yml",
    "picodet_xs": "picodet_xs_320_mainbody.yml",
    "picodet_lcnet_x1_0": "picodet_lcnet_x1_0_mainbody.yml",
}


def config_path(arch: str) -> Path:
    """The shipped config of an arch, from the repository's configs/ (or an explicit YAML path)."""
    if arch.endswith((".yml", ".yaml")):
        return Path(arch)
    root = Path(__file__).resolve().parents[3]
    return root / "configs" / ARCH_CONFIGS[arch]


def train_recipe(arch: str) -> dict[str, Any]:
    """The TrayscanTrain section of the config: the training hyperparameters ppdet does not read."""
    with open(config_path(arch)) as f:
        return dict(yaml.safe_load(f).get("TrayscanTrain", {}))


class NearestUp2(nn.Layer):
    """Nearest-neighbour x2 upsampling from unsqueeze/expand/reshape.

    Same output as nn.Upsample(scale_factor=2, mode='nearest'), but without the float64 `scale`
    attribute that Paddle Inference oneDNN and paddle2onnx cannot read (shared NOTES.md).
    """

    def forward(self, x):
        n, c, h, w = x.shape
        x = x.unsqueeze([3, 5]).expand([n, c, h, 2, w, 2])
        return x.reshape([n, c, h * 2, w * 2])


def _patch_static_nms() -> None:
    """Route ppdet's NMS to the PIR-compatible multiclass_nms3 when building a static graph."""
    from ppdet.modeling import ops

    if getattr(ops.multiclass_nms, "_trayscan_patched", False):
        return
    original = ops.multiclass_nms

    def multiclass_nms(bboxes, scores, score_threshold, nms_top_k, keep_top_k, nms_threshold=0.3,
                       normalized=True, nms_eta=1.0, background_label=-1, return_index=False,
                       return_rois_num=True, rois_num=None, name=None):
        if paddle.in_dynamic_mode():
            return original(bboxes, scores, score_threshold, nms_top_k, keep_top_k, nms_threshold,
                            normalized, nms_eta, background_label, return_index, return_rois_num,
                            rois_num, name)
        out, index, num = paddle._C_ops.multiclass_nms3(
            bboxes, scores, rois_num, score_threshold, nms_top_k, keep_top_k, nms_threshold,
            normalized, nms_eta, background_label)
        return out, num, (index if return_index else None)

    multiclass_nms._trayscan_patched = True  # type: ignore[attr-defined]
    ops.multiclass_nms = multiclass_nms


def build_picodet(arch: str, size: int, num_classes: int | None = None) -> nn.Layer:
    """PicoDet for `size` x `size` inputs, built by ppdet's workspace from the shipped config.

    `num_classes` overrides the config's (the weight import builds the 10-class source model this way).
    """
    from ppdet.core.workspace import create, load_config

    _patch_static_nms()
    cfg = load_config(str(config_path(arch)))
    cfg["eval_size"] = [size, size]
    head = cfg[cfg.architecture]["head"]  # PicoHeadV2 (picodet_s/xs) or PicoHead (picodet_lcnet_x1_0)
    cfg[head]["eval_size"] = [size, size]
    if num_classes is not None:
        cfg["num_classes"] = num_classes
    model = create(cfg.architecture)
    model.neck.upsample = NearestUp2()
    return model


def nms_settings(model: nn.Layer) -> dict[str, float]:
    nms = model.head.nms
    return {
        "score_threshold": float(nms.score_threshold),
        "nms_threshold": float(nms.nms_threshold),
        "keep_top_k": int(nms.keep_top_k),
        "nms_top_k": int(nms.nms_top_k),
    }


class ExportWrapper(nn.Layer):
    """Takes only the feeds the graph uses (image, scale_factor) and returns boxes [N, 6] and their count."""

    def __init__(self, model: nn.Layer):
        super().__init__()
        self.model = model

    def forward(self, image, scale_factor):
        out = self.model({"image": image, "scale_factor": scale_factor})
        return out["bbox"], out["bbox_num"]
