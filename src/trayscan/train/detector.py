"""`trayscan train detector`: trains the one-class PicoDet on synthetic trays, then exports it.

Run in the training venv (make train-env). Checkpoints go to --work-dir every few minutes; rerunning with
--resume continues from the last one with the same data order. The best checkpoint on the validation trays
(AP50, EMA weights) is kept apart and is what gets exported.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from trayscan.train.common import Checkpointer, Progress, seed_everything, set_device_and_threads


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="trayscan train detector", description=__doc__)
    p.add_argument("--data", type=Path, required=True, help="trayscan synth output with trays (COCO)")
    p.add_argument("--extra-data", type=Path, action="append", default=[],
                   help="more synth outputs (other world seeds: other brands and designs), trained on as well")
    p.add_argument("--val", type=Path, action="append", default=[],
                   help="validation trays to pick the best checkpoint on; repeat for several sets (renderers), "
                        "whose first --val-images trays each are pooled")
    p.add_argument("--val-images", type=int, default=100, help="trays taken from each --val set")
    p.add_argument("--out", type=Path, help="export the best checkpoint here (models/detector/<name>)")
    p.add_argument("--work-dir", type=Path, help="checkpoints (default build/train-detector/<arch>_<size>)")
    p.add_argument("--arch", default="picodet_s",
                   help="picodet_s | picodet_xs | picodet_lcnet_x1_0 | path to a config YAML")
    p.add_argument("--size", type=int, default=320, help="input size (square, not keeping ratio)")
    p.add_argument("--train-sizes", help="comma-separated multi-scale training sizes (default: the config's, "
                   "made for 320 px: 256,288,320)")
    p.add_argument("--steps", type=int, help="optimizer steps (default: from --epochs)")
    p.add_argument("--epochs", type=float, default=10.0)
    p.add_argument("--batch-size", type=int, help="default from the config's TrayscanTrain")
    p.add_argument("--lr", type=float, help="peak learning rate (default from the config)")
    p.add_argument("--static-assigner-frac", type=float, default=0.33,
                   help="share of the steps that use ATSS before the task-aligned assigner (PicoDet: 100/300)")
    p.add_argument("--ema-decay", type=float, default=0.998)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --work-dir")
    p.add_argument("--init-backbone", type=Path, help="LCNet weights (.pdparams, e.g. the embedder's)")
    p.add_argument("--init", type=Path,
                   help="whole-model start (backbone.*, neck.*, head.* keys, e.g. `train import-weights`' "
                        "picodet_lcnet_x1_0_mainbody_init.pdparams); every tensor must match")
    p.add_argument("--max-train-s", type=float, default=0.0,
                   help="stop (with a checkpoint, then --out's export) once this many seconds are spent in "
                        "all, validation passes included, for comparisons at equal training time; --resume "
                        "with a larger budget continues; 0: no budget")
    p.add_argument("--checkpoint-every", type=float, default=300.0, help="seconds")
    p.add_argument("--limit", type=int, default=0, help="use only the first N training trays (smoke tests)")
    return p.parse_args(argv)


def lr_at(step: int, total: int, peak: float, warmup: int, start_factor: float) -> float:
    """Linear warmup then cosine decay to zero, as PicoDet's LearningRate(CosineDecay, LinearWarmup)."""
    cosine = peak * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))
    if step < warmup:
        alpha = step / warmup
        return cosine * (start_factor * (1 - alpha) + alpha)
    return cosine


class Ema:
    """Exponential moving average of every float tensor of the state dict (weights and BN statistics).

    Decay ramps up as min(decay, (1 + n) / (10 + n)) so early averages are not dominated by the random init.
    """

    def __init__(self, model, decay: float, updates: int = 0):
        self.decay, self.updates = decay, updates
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def update(self, model) -> None:
        import paddle

        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        with paddle.no_grad():
            for k, v in model.state_dict().items():
                if paddle.is_floating_point(v):
                    self.state[k].set_value(self.state[k] * d + v.detach() * (1 - d))
                else:
                    self.state[k].set_value(v)


def to_tensors(batch: dict[str, np.ndarray], epoch_id: int) -> dict:
    import paddle

    inputs = {k: paddle.to_tensor(v) for k, v in batch.items()}
    inputs["epoch_id"] = epoch_id
    return inputs


def init_backbone(model, path: Path) -> None:
    """Copy LCNet weights whose names (after any prefix) and shapes match, e.g. from the embedder."""
    import paddle

    src = paddle.load(str(path))
    src = {k.removeprefix("backbone."): v for k, v in src.items()}
    target = model.backbone.state_dict()
    copied = {k: src[k] for k, v in target.items() if k in src and list(src[k].shape) == list(v.shape)}
    model.backbone.set_state_dict(copied)
    print(f"init-backbone: copied {len(copied)}/{len(target)} tensors from {path}", flush=True)


def init_whole(model, path: Path) -> None:
    """Load a whole-model state dict; a missing, extra or misshapen tensor stops the run naming it."""
    import paddle

    src = paddle.load(str(path))
    target = model.state_dict()
    missing = sorted(set(target) - set(src))
    extra = sorted(set(src) - set(target))
    misshapen = [k for k in target if k in src and list(src[k].shape) != list(target[k].shape)]
    if missing or extra or misshapen:
        raise SystemExit(f"--init {path} does not fit --arch: missing {missing[:5]}, extra {extra[:5]}, "
                         f"other shapes {misshapen[:5]}")
    model.set_state_dict(src)
    print(f"init: copied {len(target)}/{len(target)} tensors from {path}", flush=True)


def resume(ckpt: Checkpointer, model, optimizer) -> dict:
    """Last checkpoint; a copy committed without optimizer state (size limit) restarts momentum at zero."""
    import paddle

    if (ckpt.directory / "last.pdopt").exists():
        return ckpt.load(model, optimizer)
    print("resume: no last.pdopt, momentum starts from zero", flush=True)
    model.set_state_dict(paddle.load(str(ckpt.directory / "last.pdparams")))
    return json.loads(ckpt.state_path.read_text())


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    set_device_and_threads(args.device, args.threads)
    import cv2
    import paddle

    from trayscan.train.det_data import BatchStream, load_coco
    from trayscan.train.det_eval import evaluate_eager
    from trayscan.train.det_model import build_picodet, train_recipe

    cv2.setNumThreads(1)
    seed_everything(args.seed)
    recipe = train_recipe(args.arch)
    batch_size = args.batch_size or int(recipe["batch_size"])
    peak_lr = args.lr or float(recipe["learning_rate"])
    samples = load_coco(args.data, args.limit)
    for extra in args.extra_data:  # one class: every world's trays simply add boxes to learn from
        samples += load_coco(extra, args.limit)
    steps = args.steps or max(1, int(args.epochs * len(samples) / batch_size))
    work = args.work_dir or Path("build/train-detector") / f"{Path(args.arch).stem}_{args.size}"
    print(f"detector: {args.arch} {args.size}px, {len(samples)} trays, {steps} steps x {batch_size}, "
          f"peak lr {peak_lr}, work dir {work}", flush=True)

    model = build_picodet(args.arch, args.size)
    if args.init and args.init_backbone:
        raise SystemExit("--init holds the backbone already: give --init or --init-backbone")
    optimizer = paddle.optimizer.Momentum(
        learning_rate=peak_lr, momentum=float(recipe["momentum"]), parameters=model.parameters(),
        weight_decay=paddle.regularizer.L2Decay(float(recipe["weight_decay"])))
    ckpt = Checkpointer(work, every_s=args.checkpoint_every)
    resuming = args.resume and ckpt.exists()  # a start is for a fresh run only; a checkpoint holds its own
    if args.init and not resuming:
        init_whole(model, args.init)
    if args.init_backbone and not resuming:
        init_backbone(model, args.init_backbone)
    ema = Ema(model, args.ema_decay)
    val_names = [str(v) for v in args.val]
    state = {"step": 0, "best_ap50": -1.0, "best_step": -1, "train_s": 0.0, "history": []}
    if resuming:
        state = resume(ckpt, model, optimizer)
        ema = Ema(model, args.ema_decay, updates=state["step"])
        ema_path = work / "last.ema.pdparams"
        if ema_path.exists():
            for k, v in paddle.load(str(ema_path)).items():
                ema.state[k].set_value(v)
        print(f"resumed at step {state['step']} (best AP50 {state['best_ap50']:.4f})", flush=True)
        if state.get("size", args.size) != args.size:  # a best AP50 measured at another input size is no bar
            print(f"input size {state['size']} -> {args.size}: best checkpoint chosen afresh", flush=True)
            state.update({"best_ap50": -1.0, "best_step": -1})
        if state.get("val", val_names) != val_names:  # nor one measured on other validation trays
            print(f"validation trays {state['val']} -> {val_names}: best checkpoint chosen afresh", flush=True)
            state.update({"best_ap50": -1.0, "best_step": -1})
    else:  # what the run started from, kept through every resume
        state["start"] = (f"whole:{args.init}" if args.init else
                          f"backbone:{args.init_backbone}" if args.init_backbone else "random")
    state.update({"arch": args.arch, "size": args.size, "seed": args.seed, "steps": steps,
                  "batch_size": batch_size, "data": str(args.data),
                  "extra_data": [str(d) for d in args.extra_data], "trays": len(samples), "val": val_names})

    val = [s for v in args.val for s in load_coco(v)[: args.val_images]]
    train_sizes = [int(s) for s in (args.train_sizes.split(",") if args.train_sizes else recipe["train_sizes"])]
    stream = BatchStream(samples, batch_size, train_sizes, args.seed,
                         recipe["mean"], recipe["std"])
    switch = int(args.static_assigner_frac * steps)
    progress = Progress(steps, every_s=30.0)
    warmup = int(recipe["warmup_steps"])
    t_start, train_s0 = time.monotonic(), float(state["train_s"])
    model.train()
    loss_avg: dict[str, float] = {}

    def save(step: int) -> None:
        state["step"] = step
        state["train_s"] = train_s0 + time.monotonic() - t_start
        paddle.save(ema.state, str(work / "last.ema.pdparams.tmp"))
        if val:
            metrics = evaluate_eager(args.arch, args.size, ema.state, val, recipe["mean"], recipe["std"])
            state["history"].append({"step": step, "train_s": round(state["train_s"]), **metrics})
            print(f"val @ {step}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()), flush=True)
            if metrics["ap50"] > state["best_ap50"]:
                state["best_ap50"], state["best_step"] = metrics["ap50"], step
                paddle.save(ema.state, str(work / "best.ema.pdparams"))
        else:  # no validation set: the latest EMA weights are the best we know
            work.mkdir(parents=True, exist_ok=True)
            paddle.save(ema.state, str(work / "best.ema.pdparams"))
            state["best_step"] = step
        ckpt.save(model, optimizer, state)
        Path(work / "last.ema.pdparams.tmp").replace(work / "last.ema.pdparams")

    step = int(state["step"])
    out_of_time = bool(args.max_train_s) and train_s0 >= args.max_train_s
    if out_of_time:
        print(f"--max-train-s {args.max_train_s:.0f} already spent at step {step}: nothing to train", flush=True)
    for step, batch in ([] if out_of_time else stream.iterate(int(state["step"]), steps)):
        optimizer.set_lr(lr_at(step, steps, peak_lr, warmup, float(recipe["warmup_start_factor"])))
        losses = model(to_tensors(batch, 0 if step < switch else 10**6))
        losses["loss"].backward()
        optimizer.step()
        optimizer.clear_grad()
        ema.update(model)
        for k, v in losses.items():
            loss_avg[k] = 0.9 * loss_avg.get(k, float(v)) + 0.1 * float(v)
        progress.update(step + 1, items=batch_size, lr=optimizer.get_lr(), **loss_avg)
        out_of_time = bool(args.max_train_s) and train_s0 + time.monotonic() - t_start >= args.max_train_s
        if ckpt.due() or out_of_time:
            save(step + 1)
            model.train()
        if out_of_time:
            print(f"stopped at step {step + 1}: --max-train-s {args.max_train_s:.0f} spent", flush=True)
            break
    if not out_of_time and state["step"] != steps:
        save(steps)
    print(f"done: step {state['step']} of {steps}, {state['train_s'] / 3600:.2f} h, best AP50 "
          f"{state['best_ap50']:.4f} at step {state['best_step']}", flush=True)
    (work / "summary.json").write_text(json.dumps(state, indent=1))
    if args.out:
        from trayscan.train.det_export import export_all

        best = work / "best.ema.pdparams"  # absent when resumed from a committed copy and never beaten
        export_all(args.arch, args.size, best if best.exists() else work / "last.ema.pdparams", args.out,
                   args.val[0] if args.val else None)
    return 0
