"""The embedder network (PaddleClas RecModel: PP-LCNet -> flatten -> FC 512 -> ArcMargin) and its export.

Training uses the full RecModel; the export keeps backbone + neck and appends the L2 normalisation, so every
engine returns unit vectors without post-processing code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import paddle
import paddle.nn as nn
import paddle.nn.functional as F
import yaml

from trayscan.train.embedder_data import MEAN, STD

EMBEDDING_DIM = 512
ARC_MARGIN = 0.2  # PaddleClas GeneralRecognition_PPLCNet_x2_5: ArcMargin margin 0.2, scale 30
ARC_SCALE = 30.0
LCNET_NAMES = {0.25: "PPLCNet_x0_25", 0.35: "PPLCNet_x0_35", 0.5: "PPLCNet_x0_5", 0.75: "PPLCNet_x0_75",
               1.0: "PPLCNet_x1_0", 1.5: "PPLCNet_x1_5", 2.0: "PPLCNet_x2_0", 2.5: "PPLCNet_x2_5"}


def arch_config(scale: float, num_classes: int, head: str = "arcmargin") -> dict[str, Any]:
    if scale not in LCNET_NAMES:
        raise ValueError(f"--scale must be one of {sorted(LCNET_NAMES)}")
    head_config = ({"name": "ArcMargin", "embedding_size": EMBEDDING_DIM, "class_num": num_classes,
                    "margin": ARC_MARGIN, "scale": ARC_SCALE} if head == "arcmargin"
                   else {"name": "FC", "embedding_size": EMBEDDING_DIM, "class_num": num_classes})
    return {
        "name": "RecModel",
        "Backbone": {"name": LCNET_NAMES[scale], "pretrained": False},
        "BackboneStopLayer": {"name": "flatten"},
        "Neck": {"name": "FC", "embedding_size": 1280, "class_num": EMBEDDING_DIM},
        "Head": head_config,
    }


def build_rec_model(scale: float, num_classes: int, head: str = "arcmargin") -> nn.Layer:
    from paddleclas.ppcls.arch import build_model

    return build_model({"Arch": arch_config(scale, num_classes, head), "Global": {"device": "cpu"}})


class EmbeddingNet(nn.Layer):
    """Backbone + neck of a trained RecModel, output L2-normalised: what the service runs."""

    def __init__(self, rec_model: nn.Layer) -> None:
        super().__init__()
        self.backbone = rec_model.backbone
        self.neck = rec_model.neck

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return F.normalize(self.neck(self.backbone(x)), p=2, axis=1)


def export_paddle(rec_model: nn.Layer, size: int, out_dir: Path) -> Path:
    """Static graph with input `x` [N,3,size,size] -> out_dir/inference.json + inference.pdiparams."""
    net = EmbeddingNet(rec_model)
    net.eval()
    spec = [paddle.static.InputSpec(shape=[None, 3, size, size], dtype="float32", name="x")]
    static = paddle.jit.to_static(net, input_spec=spec, full_graph=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    paddle.jit.save(static, str(out_dir / "inference"))
    return out_dir / "inference.json"


def write_infer_cfg(out: Path, size: int) -> None:
    """The preprocessing the loader applies (trayscan.inference.preprocess.RecPreprocess), PaddleClas style."""
    cfg = {
        "model_type": "embedder",
        "embedding_dim": EMBEDDING_DIM,
        "input_name": "x",
        "output_normalized": True,
        "RecPreProcess": {"transform_ops": [
            {"ResizeImage": {"size": size}},
            {"NormalizeImage": {"scale": "1.0/255.0", "mean": list(MEAN), "std": list(STD), "order": ""}},
            {"ToCHWImage": None},
        ]},
    }
    header = "# Crop preprocessing, PaddleClas RecPreProcess style; applied to RGB (BGR input is converted first).\n"
    (out / "infer_cfg.yml").write_text(header + yaml.safe_dump(cfg, sort_keys=False))


# PP-ShiTuV2's TripletAngularMarginLoss settings (PaddleClas GeneralRecognitionV2): a ranking margin on cosine
# similarity plus a small absolute pull of positives above 0.8 and push of negatives below 0.4.
TRIPLET_MARGIN = 0.5
TRIPLET_ABSOLUTE = (0.8, 0.4, 0.1)  # positive floor, negative ceiling, weight


def triplet_angular_margin(features: paddle.Tensor, labels: paddle.Tensor) -> paddle.Tensor:
    """Batch-hard triplet loss on cosine similarity: each anchor's least similar positive against its most similar
    negative (in a family batch, usually a sibling). Anchors without a positive in the batch are left out."""
    f = F.normalize(features, axis=1)
    sim = f @ f.T
    y = labels.reshape([-1, 1])
    same = (y == y.T).astype(sim.dtype)
    eye = paddle.eye(sim.shape[0], dtype=sim.dtype)
    pos = same - eye
    hardest_pos = (sim + (1 - pos) * 4.0).min(axis=1)  # non-positives pushed out of the minimum
    hardest_neg = (sim - same * 4.0).max(axis=1)
    has_pos = (pos.sum(axis=1) > 0).astype(sim.dtype)
    floor, ceiling, weight = TRIPLET_ABSOLUTE
    per_anchor = (F.relu(hardest_neg - hardest_pos + TRIPLET_MARGIN)
                  + weight * (F.relu(floor - hardest_pos) + F.relu(hardest_neg - ceiling)))
    return (per_anchor * has_pos).sum() / paddle.clip(has_pos.sum(), min=1.0)
