"""Regenerates the tiny models under tests/inference/fixtures/ (run in the training venv, which has paddle).

    .venv-train/bin/python tests/inference/make_fixtures.py [models/embedder/lcnet data/emb-test-novel]

Each fixture is a real Paddle export (to_static + jit.save) converted with paddle2onnx, exactly the path the
shipped models take, plus inputs and the outputs Paddle computed eagerly: the tests check that both engines
reproduce them. The models are random-weight toys of a few KB.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


class TinyRawEmbedder(nn.Layer):
    """Un-normalised output like the official models; F.normalize does not build in the legacy program."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2D(3, EMB_DIM, 3, stride=2, padding=1)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return F.adaptive_avg_pool2d(self.conv(x), 1).flatten(1)


def make_legacy_embedder(rng: np.random.Generator) -> None:
    """A Paddle 2.x-format export (inference.pdmodel), as the official PP-ShiTu models are.

    Runs in a child process: FLAGS_enable_pir_api=0 must be set before paddle is imported.
    """
    out = HERE / "tiny_embedder_pdmodel"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    crops = [rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8) for h, w in ((25, 18), (33, 40))]
    np.savez(out / "crops.npz", **{f"crop{i}": c for i, c in enumerate(crops)})
    env = {**os.environ, "FLAGS_enable_pir_api": "0"}
    subprocess.run([sys.executable, __file__, "--legacy-child", str(out)], env=env, check=True)
    convert(out, out / "inference.onnx")


def _legacy_child(out: Path) -> None:
    net = TinyRawEmbedder()
    net.eval()
    cfg = {"embedding_dim": EMB_DIM, "PreProcess": {"transform_ops": [
        {"ResizeImage": {"size": EMB_SIZE}},
        {"NormalizeImage": {"scale": 0.00392157, "mean": MEAN, "std": STD, "order": ""}},
        {"ToCHWImage": None}]}}
    (out / "inference.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))  # PaddleClas export name
    with np.load(out / "crops.npz") as z:
        crops = [z[f"crop{i}"] for i in range(len(z.files))]
    pre = RecPreprocess.from_transform_ops(cfg["PreProcess"]["transform_ops"])
    with paddle.no_grad():
        raw = net(paddle.to_tensor(pre(crops))).numpy()
    np.save(out / "expected_raw.npy", raw)
    # to_static after the eager run: the converted layer no longer runs eagerly in legacy mode.
    spec = [paddle.static.InputSpec([None, 3, EMB_SIZE, EMB_SIZE], "float32", "x")]
    paddle.jit.save(paddle.jit.to_static(net, input_spec=spec), str(out / "inference"))


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


def make_shipped_expectations(model_dir: Path, data_dir: Path, per_sku: int = 3, skus: int = 2) -> None:
    """A few held-out tray crops (<= 64 px) and the shipped embedder's Paddle Inference features for them."""
    from trayscan.inference import load_embedder
    from trayscan.train.crops import extract, read_catalog

    crops = extract(data_dir, side=64, splits={"novel"}, margin=0.0, include_enrol=False, log_every=0)
    family = {cid: row["family"] for cid, row in read_catalog(data_dir).items()}
    labels: list[int] = []
    for label in sorted(set(crops.labels.tolist())):  # one SKU per family: variants are the hard case
        if len(labels) < skus and family[label] not in {family[x] for x in labels}:
            labels.append(label)
    chosen = []
    for label in labels:
        chosen += [int(k) for k in np.flatnonzero(crops.labels == label)[:per_sku]]
    images = [crops.image(k) for k in chosen]
    feats = load_embedder(model_dir, engine="paddle", threads=1).embed(images)
    np.savez(HERE / f"{model_dir.name}_expected.npz", labels=crops.labels[chosen], features=feats,
             **{f"crop{i}": img for i, img in enumerate(images)})


if __name__ == "__main__":
    paddle.seed(0)
    if sys.argv[1:2] == ["--legacy-child"]:
        _legacy_child(Path(sys.argv[2]))
        sys.exit(0)
    gen = np.random.default_rng(0)
    make_embedder(gen)
    make_detector(gen)
    make_legacy_embedder(gen)
    if len(sys.argv) == 3:  # make_fixtures.py MODEL_DIR HELD_OUT_DATA: expectations for a shipped embedder
        make_shipped_expectations(Path(sys.argv[1]), Path(sys.argv[2]))
    for p in sorted(HERE.rglob("*")):
        if p.is_file():
            print(f"{p.relative_to(HERE)}  {p.stat().st_size} B")
