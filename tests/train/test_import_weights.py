"""`trayscan train import-weights`: reading Paddle-named ONNX weights, pairing them by creation order and shape,
and (where the training venv and the fetched ONNX files exist) the rebuilt Paddle models against ONNX Runtime."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from trayscan.train.import_weights import (
    LAYOUT,
    ORIENTATION,
    TOL,
    ImportMismatch,
    TargetLayer,
    pair_layers,
    read_onnx_layers,
)

REPO = Path(__file__).resolve().parents[2]
TRAIN_BIN = REPO / ".venv-train" / "bin" / "trayscan"
ONNX_DIR = REPO / "build" / "pretrained" / "onnx"


def _tiny_onnx(path: Path) -> None:
    """conv2d_0 (Constant weight) -> batch_norm2d_0 -> conv2d_1 (initialiser with a deepcopy suffix) + folded bias."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    bn = [rng.uniform(0.5, 1.5, 4).astype(np.float32) for _ in range(4)]
    w1 = rng.standard_normal((2, 4, 1, 1)).astype(np.float32)
    b1 = rng.standard_normal((1, 2, 1, 1)).astype(np.float32)
    nodes = [helper.make_node("Constant", [], ["conv2d_0.w_0"], value=numpy_helper.from_array(w0)),
             helper.make_node("Conv", ["x", "conv2d_0.w_0"], ["c0"], pads=[1, 1, 1, 1])]
    for slot, value in zip(("w_0", "b_0", "w_1", "w_2"), bn, strict=True):
        nodes.append(helper.make_node("Constant", [], [f"batch_norm2d_0.{slot}"],
                                      value=numpy_helper.from_array(value)))
    nodes += [helper.make_node("BatchNormalization", ["c0"] + [f"batch_norm2d_0.{s}" for s in ("w_0", "b_0", "w_1", "w_2")],
                               ["b0"]),
              helper.make_node("Conv", ["b0", "conv2d_1.w_0_deepcopy_5"], ["c1"]),
              helper.make_node("Add", ["c1", "p2o.pd_op.reshape.0.0"], ["y"])]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 8, 8])],
        initializer=[numpy_helper.from_array(w1, "conv2d_1.w_0_deepcopy_5"),
                     numpy_helper.from_array(b1, "p2o.pd_op.reshape.0.0")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))


def test_reads_paddle_named_constants_initialisers_and_folded_conv_biases(tmp_path: Path) -> None:
    _tiny_onnx(tmp_path / "tiny.onnx")
    layers = read_onnx_layers(tmp_path / "tiny.onnx")
    assert sorted(layers) == ["batch_norm2d", "conv2d"]
    assert sorted(layers["conv2d"][0]) == ["w_0"]
    assert sorted(layers["conv2d"][1]) == ["b_0", "w_0"]  # deepcopy suffix stripped, Add constant taken as bias
    assert layers["conv2d"][1]["b_0"].shape == (2,)
    assert sorted(layers["batch_norm2d"][0]) == ["b_0", "w_0", "w_1", "w_2"]


def _layers() -> dict:
    return {"conv2d": {0: {"w_0": np.zeros((4, 3, 3, 3), np.float32)},
                       7: {"w_0": np.ones((2, 4, 1, 1), np.float32), "b_0": np.ones(2, np.float32)}},
            "batch_norm2d": {0: {s: np.full(4, i, np.float32) for i, s in enumerate(("w_0", "b_0", "w_1", "w_2"))}}}


BN = {s: (4,) for s in ("w_0", "b_0", "w_1", "w_2")}


def test_pairs_by_creation_order_within_each_kind() -> None:
    # Indices differ from the source's (12, 30 vs 0, 7): only their order matters.
    targets = [TargetLayer("conv2d", 30, "head.fc", {"w_0": (2, 4, 1, 1), "b_0": (2,)}),
               TargetLayer("conv2d", 12, "stem.conv", {"w_0": (4, 3, 3, 3)}),
               TargetLayer("batch_norm2d", 3, "stem.bn", BN)]
    state = pair_layers(targets, _layers(), "src.onnx", "Net")
    assert sorted(state) == ["head.fc.bias", "head.fc.weight", "stem.bn._mean", "stem.bn._variance",
                             "stem.bn.bias", "stem.bn.weight", "stem.conv.weight"]
    assert state["stem.bn._variance"][0] == 3 and state["head.fc.weight"].shape == (2, 4, 1, 1)


def test_a_shape_difference_names_both_sides() -> None:
    targets = [TargetLayer("conv2d", 0, "stem.conv", {"w_0": (4, 3, 3, 3)}),
               TargetLayer("conv2d", 1, "head.fc", {"w_0": (3, 4, 1, 1), "b_0": (3,)}),
               TargetLayer("batch_norm2d", 0, "stem.bn", BN)]
    with pytest.raises(ImportMismatch, match=r"head\.fc\.weight \(conv2d_1\.w_0\) has shape \[3, 4, 1, 1\], "
                                             r"src\.onnx conv2d_7\.w_0 has \[2, 4, 1, 1\]"):
        pair_layers(targets, _layers(), "src.onnx", "Net")


def test_a_count_difference_or_a_missing_bias_stops_the_import() -> None:
    bn = TargetLayer("batch_norm2d", 0, "stem.bn", BN)
    one_conv = [TargetLayer("conv2d", 0, "stem.conv", {"w_0": (4, 3, 3, 3)}), bn]
    with pytest.raises(ImportMismatch, match="conv2d layers: src.onnx has 2, Net has 1"):
        pair_layers(one_conv, _layers(), "src.onnx", "Net")
    no_bias = [one_conv[0], TargetLayer("conv2d", 1, "head.fc", {"w_0": (2, 4, 1, 1)}), bn]
    with pytest.raises(ImportMismatch, match=r"head\.fc \(conv2d_1\) has tensors \['w_0'\], src\.onnx conv2d_7 "
                                             r"has \['b_0', 'w_0'\]"):
        pair_layers(no_bias, _layers(), "src.onnx", "Net")
    with pytest.raises(ImportMismatch, match=r"src.onnx has \['batch_norm2d'\] layers that Net lacks"):
        pair_layers(one_conv[:1], _layers(), "src.onnx", "Net")


def _fetched(*names: str) -> list[Path]:
    paths = [ONNX_DIR / n for n in names]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"pretrained ONNX not fetched ({', '.join(missing)}): `make train-env` fetches it")
    return paths


def test_the_source_onnx_files_hold_the_documented_layers() -> None:
    pytest.importorskip("onnx")
    layout, orientation = _fetched(LAYOUT.onnx_name, ORIENTATION.onnx_name)
    lay = read_onnx_layers(layout)
    assert {k: len(v) for k, v in lay.items()} == {"conv2d": 102, "batch_norm2d": 94}
    assert all(lay["conv2d"][i]["w_0"].shape == (42, 128, 1, 1) for i in range(100, 104))  # 10 classes + 32
    ori = read_onnx_layers(orientation)
    assert {k: len(v) for k, v in ori.items()} == {"conv2d": 32, "batch_norm2d": 27, "linear": 1}
    assert sum("b_0" in s for s in ori["conv2d"].values()) == 4  # the two SE blocks' folded biases


def test_rebuilt_paddle_models_give_the_onnx_outputs(tmp_path: Path) -> None:
    """The whole import in the training venv: writes the state dicts, rebuilds the models from them and compares
    with ONNX Runtime on fixed inputs (max abs diff <= 1e-4 on every output)."""
    if not TRAIN_BIN.is_file():
        pytest.skip(f"training venv absent ({TRAIN_BIN}): `make train-env` builds it")
    _fetched(LAYOUT.onnx_name, ORIENTATION.onnx_name)
    record = tmp_path / "check.json"
    run = subprocess.run([str(TRAIN_BIN), "train", "import-weights", "--dir", str(ONNX_DIR.parent),
                          "--out", str(tmp_path / "paddle"), "--json", str(record)],
                         cwd=REPO, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    check = json.loads(record.read_text())["check"]
    assert check["ok"] and check["worst"] <= TOL
    assert len(check["max_abs_diff"]) == 15  # 8 layout outputs, 4 of the 1-class init, 3 orientation/embedder
    assert all(d <= TOL for d in check["max_abs_diff"].values()), check["max_abs_diff"]
    for name in ("picodet_lcnet_x1_0_mainbody_init.pdparams", "lcnet_x1_0_layout_cdla.pdparams",
                 "pplcnet_x1_0_pulc_orientation_rec_backbone.pdparams"):
        assert (tmp_path / "paddle" / name).stat().st_size > 1_000_000
