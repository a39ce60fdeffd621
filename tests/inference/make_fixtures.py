"""Regenerates the tiny models under tests/inference/fixtures/ (run in the training venv, which has paddle).

    .venv-train/bin/python tests/inference/make_fixtures.py

Each fixture is a real Paddle export (to_static + jit.save) converted with paddle2onnx, exactly the path the
shipped models take, plus inputs and the outputs Paddle computed eagerly: the tests check that both engines
reproduce them. The models are random-weight toys of a few KB.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
import yaml

from trayscan.inference.convert import convert
from trayscan.inference.preprocess import DetPreprocess, RecPreprocess

HERE = Path(__file__).parent / "fixtures"
EMB_SIZE, EMB_DIM = 32, 16
DET_SIZE = 64
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


class TinyEmbedder(nn.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2D(3, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(8, EMB_DIM)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        f = F.adaptive_avg_pool2d(F.relu(self.conv(x)), 1).flatten(1)
        return F.normalize(self.fc(f), axis=1)


class TinyDetector(nn.Layer):
    """PaddleDetection export contract: (image, scale_factor) -> boxes [4, 6], count [1].

    Rows 0-1 are boxes, row 2 is class -1 padding, row 3 lies beyond the count: the wrapper must drop both.
    """

    def __init__(self) -> None:
        super().__init__()
        self.bias = self.create_parameter([4, 1], default_initializer=nn.initializer.Assign(
            np.array([[0.5], [-0.5], [0.0], [1.0]], dtype=np.float32)))
        boxes = np.array([[4, 8, 30, 40], [20, 2, 60, 30], [0, 0, 10, 10], [1, 1, 5, 5]], dtype=np.float32)
        self.register_buffer("boxes", paddle.to_tensor(boxes))
        self.register_buffer("cls", paddle.to_tensor(np.array([[0.0], [0.0], [-1.0], [0.0]], dtype=np.float32)))

    def forward(self, image: paddle.Tensor, scale_factor: paddle.Tensor) -> tuple[paddle.Tensor, paddle.Tensor]:
        score = F.sigmoid(image.mean(axis=[1, 2, 3]).reshape([1, 1]) + self.bias)  # [4, 1]
        sy, sx = scale_factor[:, 0:1], scale_factor[:, 1:2]
        scale = paddle.concat([sx, sy, sx, sy], axis=1)  # PaddleDetection order: scale_factor = (y, x)
        out = paddle.concat([self.cls, score, self.boxes / scale], axis=1)
        return out, paddle.full([1], 3, dtype="int32")


def _export(net: nn.Layer, specs: list, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    net.eval()
    static = paddle.jit.to_static(net, input_spec=specs, full_graph=True)
    paddle.jit.save(static, str(out / "inference"))
    convert(out, out / "inference.onnx")


def make_embedder(rng: np.random.Generator) -> None:
    out = HERE / "tiny_embedder"
    net = TinyEmbedder()
    _export(net, [paddle.static.InputSpec([None, 3, EMB_SIZE, EMB_SIZE], "float32", "x")], out)
    cfg = {"model_type": "embedder", "embedding_dim": EMB_DIM, "RecPreProcess": {"transform_ops": [
        {"ResizeImage": {"size": EMB_SIZE}},
        {"NormalizeImage": {"scale": "1.0/255.0", "mean": MEAN, "std": STD, "order": ""}},
        {"ToCHWImage": None}]}}
    (out / "infer_cfg.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    crops = [rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8) for h, w in ((20, 30), (41, 17), (32, 32))]
    pre = RecPreprocess.from_transform_ops(cfg["RecPreProcess"]["transform_ops"])
    with paddle.no_grad():
        expected = net(paddle.to_tensor(pre(crops))).numpy()
    np.savez(out / "expected.npz", **{f"crop{i}": c for i, c in enumerate(crops)}, features=expected)


def make_detector(rng: np.random.Generator) -> None:
    out = HERE / "tiny_detector"
    net = TinyDetector()
    _export(net, [paddle.static.InputSpec([1, 3, DET_SIZE, DET_SIZE], "float32", "image"),
                  paddle.static.InputSpec([1, 2], "float32", "scale_factor")], out)
    cfg = {"mode": "paddle", "arch": "PicoDet", "draw_threshold": 0.5, "label_list": ["foreground"],
           "Preprocess": [
               {"type": "Resize", "target_size": [DET_SIZE, DET_SIZE], "keep_ratio": False, "interp": 2},
               {"type": "NormalizeImage", "mean": MEAN, "std": STD, "is_scale": True},
               {"type": "Permute"}]}
    (out / "infer_cfg.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    image = rng.integers(0, 256, size=(48, 80, 3), dtype=np.uint8)
    feeds = DetPreprocess.from_infer_cfg(cfg["Preprocess"])(image)
    with paddle.no_grad():
        boxes, _ = net(paddle.to_tensor(feeds["image"]), paddle.to_tensor(feeds["scale_factor"]))
    np.savez(out / "expected.npz", image=image, boxes=boxes.numpy()[:2])


if __name__ == "__main__":
    paddle.seed(0)
    gen = np.random.default_rng(0)
    make_embedder(gen)
    make_detector(gen)
    for p in sorted(HERE.rglob("*")):
        if p.is_file():
            print(f"{p.relative_to(HERE)}  {p.stat().st_size} B")
