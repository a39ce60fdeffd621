"""`trayscan train embedder`: PP-LCNet + FC-512 + ArcMargin on crops of `train` SKUs, then export.

Recipe from PaddleClas GeneralRecognition (RecModel, flatten stop layer, FC neck 1280->512, ArcMargin margin 0.2
scale 30). Differences, because there is no pretrained backbone here and the run is short on 2 CPU cores: AdamW
with warm-up + cosine instead of Momentum 0.04, and both the ArcMargin margin and the augmentation strength ramp
up over the first ~500 steps (from random weights, full margin or full-strength augmentation learned nothing in
the first hundreds of steps).

Reproducible: batch k is drawn from a generator seeded by (seed, k), and every schedule except the cosine decay
is in absolute steps, so a resumed run, or a rerun with `--steps N` of a run sized by `--minutes`, sees the same
batches and settings.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from trayscan.inference.preprocess import RecPreprocess
from trayscan.train.crops import CropSet
from trayscan.train.embedder_data import (
    BatchSampler,
    FamilyBatches,
    Prefetcher,
    load_training_crops,
    load_val_set,
    training_families,
)

HEADS = ("arcmargin", "fc")  # fc: a plain classifier for cross-entropy, PP-ShiTuV2's CE + triplet recipe


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="trayscan train embedder", description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, required=True, help="trayscan synth output with train-SKU trays + enrolment")
    p.add_argument("--val", type=Path, help="optional synth output with novel-SKU trays: recall@1 while training")
    p.add_argument("--extra-data", type=Path, action="append", default=[],
                   help="more synth outputs from other world seeds: all their SKUs become extra classes (more "
                   "families to learn from; none of them is in --data's world)")
    p.add_argument("--init", type=Path, help="start backbone and neck from this checkpoint's last.pdparams, or "
                   "from a .pdparams file such as the imported PULC PP-LCNet x1.0 backbone (`trayscan train "
                   "import-weights`; with --scale 1.0); the head is new unless that run's folder shows the same data and classes; the schedule "
                   "starts at step 0")
    p.add_argument("--out", type=Path, default=Path("models/embedder/lcnet"))
    p.add_argument("--ckpt-dir", type=Path, help="default: models/checkpoints/embedder-<out name>")
    p.add_argument("--scale", type=float, default=0.5, help="PP-LCNet width (0.25 .. 2.5)")
    p.add_argument("--size", type=int, default=128, help="square input side (train and inference)")
    p.add_argument("--crop-side", type=int, help="longer side of the cached crops (default 1.5 x --size): a "
                   "smaller side reuses an existing cache and saves memory at a larger --size")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, help="optimizer steps (overrides --epochs; on resume, changes the total)")
    p.add_argument("--epochs", type=float, default=6.0, help="passes over the stored crops")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--warmup-steps", type=int, default=60, help="linear lr warm-up")
    p.add_argument("--margin-ramp-steps", type=int, default=500, help="steps over which the margin grows 0 -> 0.2")
    p.add_argument("--aug-ramp-steps", type=int, default=500, help="steps over which augmentation reaches full strength")
    p.add_argument("--minutes", type=float, help="fit the run into this wall time: after 25 timed steps the total "
                   "is set from the measured speed and saved (rerun with --steps N to reproduce)")
    p.add_argument("--family-batches", action="store_true", help="batches of whole design families (--family-skus "
                   "siblings of each drawn family, 2 samples each) instead of class-balanced draws")
    p.add_argument("--family-skus", type=int, default=4, help="sibling SKUs drawn from a family in a family batch")
    p.add_argument("--head", choices=HEADS, default="arcmargin", help="classification head: ArcMargin (margin "
                   "0.2, scale 30) or a plain FC classifier with cross-entropy (PP-ShiTuV2's CE beside the triplet "
                   "term)")
    p.add_argument("--triplet-weight", type=float, default=0.0, help="weight of PP-ShiTuV2's triplet angular margin "
                   "loss on the neck features, added to ArcMargin's (0: ArcMargin alone)")
    p.add_argument("--world-weights", type=_weights, help="comma-separated draw weight of each world, --data "
                   "first then each --extra-data (e.g. 1,1,1,1,0.4: the last world drawn 0.4 times as often per "
                   "class or family); default: every class or family equally often")
    p.add_argument("--enrol-share", type=float, default=0.35, help="share of samples taken from enrolment photos")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=1, help="processes that build augmented batches ahead")
    p.add_argument("--ckpt-every", type=float, default=180.0, help="seconds between checkpoints")
    p.add_argument("--val-every", type=int, default=500, help="steps between validation runs (with --val)")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint (the default when one exists)")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    p.add_argument("--export-only", action="store_true", help="export the checkpoint without training")
    return p.parse_args(argv)


def lr_at(step: int, total: int, base: float, warmup_steps: int) -> float:
    """Linear warm-up then cosine to 0; warm-up in absolute steps, so changing the total keeps earlier steps."""
    w = max(1, min(warmup_steps, total - 1))
    if step < w:
        return base * (step + 1) / w
    return 0.5 * base * (1 + math.cos(math.pi * (step - w) / max(1, total - w)))


def val_recall(model: Any, gallery: CropSet, queries: CropSet, pre: RecPreprocess, limit: int = 600) -> float:
    """Recall@1 of tray crops against enrolment crops with the eager model (cosine on normalised features)."""
    import paddle
    import paddle.nn.functional as F

    def embed(images: list[np.ndarray]) -> np.ndarray:
        feats = []
        for i in range(0, len(images), 64):
            x = paddle.to_tensor(pre(images[i:i + 64]))
            feats.append(F.normalize(model.neck(model.backbone(x)), axis=1).numpy())
        return np.concatenate(feats)

    model.eval()
    with paddle.no_grad():
        g = embed(gallery.box_crops())
        q_crops = queries.box_crops()[:limit]
        q = embed(q_crops)
    model.train()
    top = (q @ g.T).argmax(axis=1)
    return float(np.mean(gallery.labels[top] == queries.labels[:limit]))


def export(model: Any, args: argparse.Namespace, state: dict[str, Any]) -> None:
    from trayscan.inference.convert import convert
    from trayscan.train.embedder_model import export_paddle, write_infer_cfg

    out: Path = args.out
    export_paddle(model, args.size, out)
    log = convert(out, out / "inference.onnx")
    (out / "paddle2onnx.log").write_text(log)
    write_infer_cfg(out, args.size)
    (out / "training.json").write_text(json.dumps(state, indent=1))
    print(f"exported {out}: inference.json/.pdiparams, inference.onnx, infer_cfg.yml", flush=True)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    import paddle

    from trayscan.train.common import Checkpointer, seed_everything, set_device_and_threads
    from trayscan.train.embedder_model import build_rec_model

    set_device_and_threads(args.device, args.threads)
    seed_everything(args.seed)
    ckpt = Checkpointer(args.ckpt_dir or Path("models/checkpoints") / f"embedder-{args.out.name}", args.ckpt_every)
    if args.export_only:  # the classes come from the checkpoint: no need to load the crops
        state = json.loads(ckpt.state_path.read_text())
        model = build_rec_model(args.scale, len(state["classes"]), state["args"].get("head", "arcmargin"))
        state = ckpt.load(model, _optimizer(paddle, model, args))
        model.eval()
        export(model, args, state)
        return 0

    if args.world_weights and len(args.world_weights) != 1 + len(args.extra_data):
        raise SystemExit(f"--world-weights has {len(args.world_weights)} weights for {1 + len(args.extra_data)} "
                         "worlds (--data and each --extra-data)")
    crops = load_training_crops(args.data, args.extra_data, _crop_side(args))
    class_ids = sorted(int(c) for c in np.unique(crops.labels))
    class_of = {cid: i for i, cid in enumerate(class_ids)}
    print(f"{len(crops)} crops ({int((crops.source == 1).sum())} enrolment) of {len(class_ids)} train SKUs", flush=True)

    model = build_rec_model(args.scale, len(class_ids), args.head)
    if args.init:
        _init_from(paddle, model, args.init, class_ids, {"data": args.data, "extra_data": args.extra_data})
    opt = _optimizer(paddle, model, args)
    state: dict[str, Any] = {
        "args": {k: _jsonable(v) for k, v in vars(args).items()},
        "steps": args.steps or max(1, int(args.epochs * len(crops) / args.batch)), "step": 0,
        "train_seconds": 0.0, "classes": class_ids, "crops": len(crops), "history": [],
        "params_embedding": sum(int(np.prod(p.shape)) for n, p in model.named_parameters() if not n.startswith("head")),
        "machine": f"{platform.machine()} {platform.processor() or ''}, {args.threads} threads".strip(),
    }
    if ckpt.exists() and not args.fresh:
        state = ckpt.load(model, opt)
        if state["classes"] != class_ids:
            raise SystemExit(f"checkpoint {ckpt.directory} was trained on other classes; use --fresh")
        print(f"resumed from {ckpt.directory} at step {state['step']}/{state['steps']}", flush=True)
        if args.steps and args.steps != state["steps"]:
            # Lengthening a run: the cosine decay is stretched from here on; recorded in the history.
            state["history"].append({"step": state["step"], "steps_changed": [state["steps"], args.steps]})
            print(f"total steps {state['steps']} -> {args.steps}", flush=True)
            state["steps"] = args.steps
    elif args.resume:
        print(f"no checkpoint in {ckpt.directory}: starting fresh", flush=True)
    if state["step"] < state["steps"]:
        _train(model, opt, crops, class_of, args, state, ckpt)
    model.eval()
    export(model, args, state)
    return 0


def _weights(text: str) -> list[float]:
    try:
        weights = [float(w) for w in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if any(w < 0 for w in weights) or not any(weights):
        raise argparse.ArgumentTypeError("weights must be >= 0 and not all 0")
    return weights


def _crop_side(args: argparse.Namespace) -> int:
    """Stored crops keep some resolution beyond the input for zoom and rotation."""
    return int(args.crop_side or args.size * 1.5)


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return str(value) if isinstance(value, Path) else value


def _init_from(paddle: Any, model: Any, source: Path, class_ids: list[int], data_args: dict[str, Any]) -> None:
    """Backbone and neck weights of an earlier run, or of a .pdparams file; the ArcMargin head too when that run
    trained the same classes (a continued run need not learn its class centres again)."""
    path = source if source.is_file() else source / "last.pdparams"
    weights = paddle.load(str(path))
    same_classes = False
    if not source.is_file() and (source / "last.json").exists():  # labels are numbers per world: same data too
        before = json.loads((source / "last.json").read_text())
        same_classes = before.get("classes") == class_ids and all(
            before.get("args", {}).get(key) == _jsonable(value) for key, value in data_args.items())
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    kept = {k: v for k, v in weights.items() if not k.startswith("head.")
            or (same_classes and shapes.get(k) == list(v.shape))}  # another head type: a new one
    wrong = [k for k, v in kept.items() if shapes.get(k) != list(v.shape)]
    if wrong:  # set_state_dict would only warn: a wrong --scale must not start from half-loaded weights
        raise SystemExit(f"--init {path}: {len(wrong)} tensors do not fit this model (e.g. {wrong[0]}): "
                         "check --scale")
    model.set_state_dict(kept)
    parts = sorted({k.split(".")[0] for k in kept})
    print(f"{' and '.join(parts)} from {path} ({len(kept)} tensors)", flush=True)


def _optimizer(paddle: Any, model: Any, args: argparse.Namespace) -> Any:
    decay = {p.name for p in model.parameters() if p.ndim > 1}  # no weight decay on BN / biases
    return paddle.optimizer.AdamW(learning_rate=args.lr, parameters=model.parameters(),
                                  weight_decay=args.weight_decay, apply_decay_param_fun=lambda name: name in decay)


def _train(model: Any, opt: Any, crops: CropSet, class_of: dict[int, int], args: argparse.Namespace,
           state: dict[str, Any], ckpt: Any) -> None:
    """The optimisation loop; updates `state` and checkpoints it with the model every few minutes."""
    import paddle
    import paddle.nn.functional as F

    from trayscan.train.common import Progress
    from trayscan.train.embedder_model import ARC_MARGIN, triplet_angular_margin

    steps = state["steps"]
    families = (FamilyBatches(training_families(args.data, args.extra_data), skus=args.family_skus)
                if args.family_batches else None)
    sampler = BatchSampler(crops, class_of, args.size, args.enrol_share, args.seed, args.aug_ramp_steps, families,
                           args.world_weights)
    val = load_val_set(args.val, _crop_side(args)) if args.val else None
    progress = Progress(steps)
    prefetch = Prefetcher(sampler, args.batch, state["step"], steps, args.workers)
    model.train()
    t_start, trained_before = time.monotonic(), state["train_seconds"]
    loss_avg = acc_avg = 0.0
    first = state["step"]
    for step in range(first, 10**9):
        if args.minutes and step == first + 25 and not state.get("steps_from_minutes"):
            # Fit the schedule to the time budget once (the steps before do not depend on the total).
            rate = 25 / (time.monotonic() - t_start)
            steps = max(step + 1, int(step + rate * (args.minutes * 60 - (time.monotonic() - t_start))))
            state.update(steps=steps, steps_from_minutes=True)
            progress.total = steps
            prefetch.stop = steps
            print(f"time budget {args.minutes} min at {rate * args.batch:.1f} img/s: {steps} steps", flush=True)
        if step >= steps:
            break
        if args.head == "arcmargin":
            model.head.margin = ARC_MARGIN * min(1.0, (step + 1) / max(1, args.margin_ramp_steps))
        opt.set_lr(lr_at(step, steps, args.lr, args.warmup_steps))
        x, y = prefetch.get(step)
        out = model(paddle.to_tensor(x), paddle.to_tensor(y))
        loss = F.cross_entropy(out["logits"], paddle.to_tensor(y))
        if args.triplet_weight:
            loss = loss + args.triplet_weight * triplet_angular_margin(out["features"], paddle.to_tensor(y[:, 0]))
        loss.backward()
        opt.step()
        opt.clear_grad()
        acc = float((out["logits"].argmax(axis=1).numpy() == y[:, 0]).mean())
        loss_avg = 0.95 * loss_avg + 0.05 * float(loss) if step > first else float(loss)
        acc_avg = 0.95 * acc_avg + 0.05 * acc if step > first else acc
        progress.update(step + 1, items=args.batch, loss=loss_avg, acc=acc_avg, lr=opt.get_lr(),
                        margin=getattr(model.head, "margin", 0.0))
        state["step"] = step + 1
        state["train_seconds"] = trained_before + time.monotonic() - t_start
        if val is not None and ((step + 1) % args.val_every == 0 or step + 1 == steps):
            r1 = val_recall(model, *val, sampler.pre)
            state["history"].append({"step": step + 1, "loss": loss_avg, "val_recall1": r1})
            print(f"step {step + 1}: val recall@1 (novel SKUs) {r1:.4f}", flush=True)
        if ckpt.due() or step + 1 == steps:
            ckpt.save(model, opt, state)
    prefetch.close()


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
