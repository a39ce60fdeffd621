"""`trayscan train detector-eval`: accuracy (recall, AP50 at IoU 0.5) and speed of an exported detector.

Runs the exported model itself (ONNX Runtime on model.onnx, Paddle Inference with oneDNN on inference.json),
with the preprocessing its infer_cfg.yml declares, on held-out trays. With `--fuse-with` / `--mirror` it measures
instead what the service's detect stage gets from several fused passes (inference/fusion.py, settings
`models.detector_extra_dirs` / `models.detector_mirror`). Also holds the eager evaluation that training uses to
pick its best checkpoint.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import yaml

from trayscan.train.det_data import Sample, load_coco
from trayscan.train.det_metrics import DetAccumulator


def preprocess(img_bgr: np.ndarray, size_hw: tuple[int, int], mean, std, interp: int = cv2.INTER_CUBIC):
    """Resize without keeping ratio, RGB, /255, mean/std, CHW: image [1,3,H,W] and scale_factor [1,2]."""
    h, w = img_bgr.shape[:2]
    resized = cv2.resize(img_bgr, (size_hw[1], size_hw[0]), interpolation=interp)
    rgb = resized[:, :, ::-1].astype(np.float32) / 255.0
    chw = ((rgb - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)).transpose(2, 0, 1)
    scale = np.array([[size_hw[0] / h, size_hw[1] / w]], np.float32)
    return np.ascontiguousarray(chw[None]), scale


class InferCfg:
    """The preprocessing an exported detector declares (PaddleDetection infer_cfg.yml)."""

    def __init__(self, path: Path):
        cfg = yaml.safe_load(path.read_text())
        steps = {s["type"]: s for s in cfg["Preprocess"]}
        self.size_hw = tuple(int(v) for v in steps["Resize"]["target_size"])
        self.interp = int(steps["Resize"].get("interp", cv2.INTER_CUBIC))
        self.mean = steps["NormalizeImage"]["mean"]
        self.std = steps["NormalizeImage"]["std"]

    def __call__(self, img_bgr: np.ndarray):
        return preprocess(img_bgr, self.size_hw, self.mean, self.std, self.interp)  # type: ignore[arg-type]


class OrtRunner:
    name = "onnxruntime"

    def __init__(self, model_dir: Path, threads: int):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.sess = ort.InferenceSession(str(model_dir / "model.onnx"), opts, providers=["CPUExecutionProvider"])
        self.feeds = [i.name for i in self.sess.get_inputs()]

    def __call__(self, image: np.ndarray, scale: np.ndarray) -> np.ndarray:
        data = {"image": image, "scale_factor": scale}
        boxes, num = self.sess.run(None, {k: data[k] for k in self.feeds})[:2]
        return np.asarray(boxes)[: int(np.asarray(num).reshape(-1)[0])]


class PaddleRunner:
    name = "paddle-onednn"

    def __init__(self, model_dir: Path, threads: int):
        from paddle import inference

        model_file = model_dir / "inference.json"
        if not model_file.exists():
            model_file = model_dir / "inference.pdmodel"
        cfg = inference.Config(str(model_file), str(model_dir / "inference.pdiparams"))
        cfg.disable_gpu()
        cfg.enable_mkldnn()
        cfg.set_cpu_math_library_num_threads(threads)
        cfg.disable_glog_info()
        self.pred = inference.create_predictor(cfg)
        self.feeds = self.pred.get_input_names()

    def __call__(self, image: np.ndarray, scale: np.ndarray) -> np.ndarray:
        data = {"image": image, "scale_factor": scale}
        for name in self.feeds:
            self.pred.get_input_handle(name).copy_from_cpu(data[name])
        self.pred.run()
        outs = [self.pred.get_output_handle(n).copy_to_cpu() for n in self.pred.get_output_names()]
        return outs[0][: int(outs[1].reshape(-1)[0])]


def accuracy(detect, samples: list[Sample]) -> dict[str, float]:
    """Recall / AP50 of `detect(image) -> (boxes [N, 4], scores [N])` on the samples."""
    acc = DetAccumulator()
    for s in samples:
        boxes, scores = detect(cv2.imread(str(s.path)))
        acc.add(boxes, scores, s.boxes)
    return acc.summary()


def _raw_boxes(det: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boxes and scores of an exported detector's [N, 6] output (class, score, x1, y1, x2, y2)."""
    return det[:, 2:6], det[:, 1]


def speed_ms(run, prep, samples: list[Sample], repeats: int) -> dict[str, float]:
    """Median and p90 ms per image of the model call alone (preprocessing excluded, measured apart)."""
    inputs = [prep(cv2.imread(str(s.path))) for s in samples[:10]]
    for x in inputs[:3]:
        run(*x)
    times, pre = [], []
    for i in range(repeats):
        img = cv2.imread(str(samples[i % len(samples)].path))
        t0 = time.perf_counter()
        prep(img)
        t1 = time.perf_counter()
        run(*inputs[i % len(inputs)])
        times.append((time.perf_counter() - t1) * 1000)
        pre.append((t1 - t0) * 1000)
    times.sort()
    return {"median_ms": statistics.median(times), "p90_ms": times[int(0.9 * (len(times) - 1))],
            "preprocess_median_ms": statistics.median(pre), "runs": float(repeats)}


_EAGER: dict = {}


def evaluate_eager(arch: str, size: int, state: dict, samples: list[Sample], mean, std) -> dict[str, float]:
    """Training-time check of a state dict (EMA weights) with the eager model and ppdet's own NMS."""
    import paddle

    from trayscan.train.det_model import build_picodet

    key = (arch, size)
    if key not in _EAGER:
        _EAGER.clear()
        _EAGER[key] = build_picodet(arch, size)
    model = _EAGER[key]
    model.set_state_dict(state)
    model.eval()
    acc = DetAccumulator()
    with paddle.no_grad():
        for s in samples:
            image, scale = preprocess(cv2.imread(str(s.path)), (size, size), mean, std)
            out = model({"image": paddle.to_tensor(image), "scale_factor": paddle.to_tensor(scale)})
            det = out["bbox"].numpy()[: int(out["bbox_num"].numpy()[0])]
            acc.add(det[:, 2:6], det[:, 1], s.boxes)
    s = acc.summary()
    return {k: s[k] for k in ("ap50", "recall50", "recall50@0.3", "precision50@0.3", "part_boxes@0.4",
                              "group_boxes@0.4", "images_all_found")}


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="trayscan train detector-eval", description=__doc__)
    p.add_argument("--model", type=Path, required=True, help="exported detector dir (models/detector/<name>)")
    p.add_argument("--data", type=Path, required=True, help="held-out trays (trayscan synth, other --tray-seed)")
    p.add_argument("--limit", type=int, default=0, help="first N trays only")
    p.add_argument("--engines", default="onnxruntime,paddle-onednn")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--speed-runs", type=int, default=50)
    p.add_argument("--fuse-with", type=Path, action="append", default=[],
                   help="another exported detector whose boxes are fused with --model's, as the service does")
    p.add_argument("--mirror", action="store_true", help="fuse each model's pass on the mirrored image too")
    p.add_argument("--json", type=Path, help="also write the results here")
    return p.parse_args(argv)


def fused_accuracy(args: argparse.Namespace, samples: list[Sample]) -> dict[str, object]:
    """Accuracy and speed of the service's fused detector (ONNX Runtime), boxes as its detect stage sees them."""
    from trayscan.inference import load_detector
    from trayscan.inference.fusion import with_fusion

    def load(model: Path):
        return load_detector(model, "onnxruntime", args.threads)

    detector = with_fusion(load(args.model), [load(m) for m in args.fuse_with], args.mirror)
    times: list[float] = []

    def detect(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        start = time.perf_counter()
        found = detector.detect(img)
        times.append((time.perf_counter() - start) * 1000)
        boxes = np.array([d.box for d in found], dtype=np.float32).reshape(-1, 4)
        return boxes, np.array([d.score for d in found], dtype=np.float32)

    summary = accuracy(detect, samples)
    return {**summary, "detector": detector.name, "median_ms_with_preprocess": statistics.median(times)}


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    cv2.setNumThreads(1)
    samples = load_coco(args.data, args.limit)
    prep = InferCfg(args.model / "infer_cfg.yml")
    runners = {"onnxruntime": OrtRunner, "paddle-onednn": PaddleRunner}
    results: dict = {"model": str(args.model), "data": str(args.data), "trays": len(samples),
                     "threads": args.threads}
    manifest = args.data / "manifest.json"
    if manifest.exists():
        results["data_manifest"] = json.loads(manifest.read_text())
    if args.fuse_with or args.mirror:
        results["fused"] = fused_accuracy(args, samples)
        print("fused: " + json.dumps(results["fused"]), flush=True)
        args.engines = ""  # the single model's figures come from a run without fusion
    for i, name in enumerate(e for e in args.engines.split(",") if e):
        run = runners[name](args.model, args.threads)
        if i == 0:  # accuracy is engine-independent (checked at export); measure it once
            results["accuracy"] = accuracy(lambda img, run=run: _raw_boxes(run(*prep(img))), samples)
            print("accuracy: " + json.dumps(results["accuracy"]), flush=True)
        if args.speed_runs > 0:  # 0: accuracy only
            results[f"speed_{name}"] = speed_ms(run, prep, samples, args.speed_runs)
            print(f"speed {name}: " + json.dumps(results[f"speed_{name}"]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0
