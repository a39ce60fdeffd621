"""`trayscan train detector-export`: trained weights -> Paddle inference model with NMS, infer_cfg.yml, ONNX.

The export follows PP-ShiTu's mainbody detector contract: feeds `image` [1,3,H,W] and `scale_factor` [1,2],
fetches boxes [N,6] (class, score, x1, y1, x2, y2 in original pixels) and the box count. After converting
to ONNX it checks that ONNX Runtime and Paddle Inference (oneDNN) return the same boxes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from trayscan.train.det_model import build_picodet, nms_settings, train_recipe


def export_paddle(arch: str, size: int, weights: Path, out_dir: Path, nms_override: dict | None = None) -> dict:
    import paddle
    from paddle.static import InputSpec

    from trayscan.train.det_model import ExportWrapper

    model = build_picodet(arch, size)
    model.set_state_dict(paddle.load(str(weights)))
    model.eval()
    for key, value in (nms_override or {}).items():  # e.g. a higher score floor: fewer boxes enter NMS
        setattr(model.head.nms, key, value)
    spec = [InputSpec([1, 3, size, size], "float32", "image"), InputSpec([1, 2], "float32", "scale_factor")]
    static = paddle.jit.to_static(ExportWrapper(model), input_spec=spec, full_graph=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    paddle.jit.save(static, str(out_dir / "inference"))
    return nms_settings(model)


def write_infer_cfg(arch: str, size: int, nms: dict, out_dir: Path) -> None:
    """PaddleDetection's deploy config: what PP-ShiTu's predictor (and trayscan's loader) reads."""
    recipe = train_recipe(arch)
    cfg = {
        "mode": "paddle",
        "draw_threshold": 0.5,
        "metric": "COCO",
        "use_dynamic_shape": False,
        "arch": "PicoDet",
        "min_subgraph_size": 3,
        "fpn_stride": [8, 16, 32, 64],
        "Preprocess": [
            {"type": "Resize", "interp": 2, "keep_ratio": False, "target_size": [size, size]},
            {"type": "NormalizeImage", "is_scale": True, "mean": list(recipe["mean"]), "std": list(recipe["std"])},
            {"type": "Permute"},
        ],
        "label_list": ["mainbody"],
        "NMS": {"name": "MultiClassNMS", **nms},
    }
    (out_dir / "infer_cfg.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))


def convert_onnx(out_dir: Path, opset: int = 13) -> None:
    """paddle2onnx can log an error and still exit 0 (NOTES.md): fail on either, and on a missing file."""
    cmd = [str(Path(sys.executable).parent / "paddle2onnx"), "--model_dir", str(out_dir),
           "--model_filename", "inference.json", "--params_filename", "inference.pdiparams",
           "--save_file", str(out_dir / "model.onnx"), "--opset_version", str(opset),
           "--optimize_tool", "polygraphy"]
    # Polygraphy would pip-install missing deps mid-conversion (and upgrade numpy): forbid it.
    env = {**os.environ, "POLYGRAPHY_AUTOINSTALL_DEPS": "0"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    log = proc.stdout + proc.stderr
    log_path = Path("build/paddle2onnx") / f"{out_dir.name}.log"  # kept out of the shipped model dir
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(log)
    bad = [line for line in log.splitlines() if "error" in line.lower() or "not supported" in line.lower()]
    if proc.returncode != 0 or bad or not (out_dir / "model.onnx").exists():
        raise RuntimeError(f"paddle2onnx failed (rc {proc.returncode}):\n" + "\n".join(bad or log.splitlines()[-20:]))


def _one_way(a: np.ndarray, b: np.ndarray) -> float:
    """Largest distance from a box of a to its nearest box in b (max abs over score and coordinates)."""
    if len(a) == 0:
        return 0.0
    if len(b) == 0:
        return float("inf")
    return float(np.abs(a[:, None, 1:6] - b[None, :, 1:6]).max(axis=2).min(axis=1).max())


def verify_engines(out_dir: Path, images: list[np.ndarray], threads: int = 2, min_score: float = 0.3) -> float:
    """Worst difference between ONNX Runtime and Paddle Inference boxes scoring >= min_score.

    Compared as sets: near-equal scores may come out in another order, which is not a disagreement.
    """
    from trayscan.train.det_eval import InferCfg, OrtRunner, PaddleRunner

    prep = InferCfg(out_dir / "infer_cfg.yml")
    ort_run, pd_run = OrtRunner(out_dir, threads), PaddleRunner(out_dir, threads)
    worst = 0.0
    for img in images:
        a, b = ort_run(*prep(img)), pd_run(*prep(img))
        a, b = a[a[:, 1] >= min_score], b[b[:, 1] >= min_score]
        worst = max(worst, _one_way(a, b), _one_way(b, a))
    return worst


def sample_images(data: Path | None, n: int = 3) -> list[np.ndarray]:
    if data is not None:
        import cv2

        from trayscan.train.det_data import load_coco

        return [cv2.imread(str(s.path)) for s in load_coco(data, n)]
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (960, 1280, 3), dtype=np.uint8) for _ in range(n)]


def export_all(arch: str, size: int, weights: Path, out_dir: Path, data: Path | None = None,
               nms_override: dict | None = None) -> None:
    nms = export_paddle(arch, size, weights, out_dir, nms_override)
    write_infer_cfg(arch, size, nms, out_dir)
    convert_onnx(out_dir)
    diff = verify_engines(out_dir, sample_images(data))
    print(f"exported {out_dir}: NMS {nms}; onnxruntime vs paddle, boxes scoring >= 0.3: max abs diff {diff:.2e}",
          flush=True)
    if diff > 0.5:  # pixels / score units: beyond float noise, well below a box-level disagreement
        raise RuntimeError(f"onnxruntime and paddle outputs differ by {diff}")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="trayscan train detector-export", description=__doc__)
    p.add_argument("--weights", type=Path, required=True, help="e.g. build/train-detector/<run>/best.ema.pdparams")
    p.add_argument("--out", type=Path, required=True, help="models/detector/<name>")
    p.add_argument("--arch", default="picodet_s")
    p.add_argument("--size", type=int, default=320)
    p.add_argument("--data", type=Path, help="trays to compare the engines on (default: random images)")
    p.add_argument("--score-threshold", type=float, help="NMS score floor (default: the config's)")
    p.add_argument("--nms-top-k", type=int, help="boxes entering NMS (default: the config's)")
    args = p.parse_args(argv)
    override = {k: v for k, v in (("score_threshold", args.score_threshold), ("nms_top_k", args.nms_top_k))
                if v is not None}
    export_all(args.arch, args.size, args.weights, args.out, args.data, override)
    return 0
