"""Runtimes that execute an exported model: ONNX Runtime (default) and Paddle Inference (optional extra).

An engine only maps named float arrays in to arrays out; preprocessing and output decoding live in the model
wrappers, so both engines give the same results from the same model directory.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import numpy as np

ENGINE_ALIASES = {"onnx": "onnx", "onnxruntime": "onnx", "ort": "onnx", "paddle": "paddle",
                  "paddle_inference": "paddle", "paddleinference": "paddle"}
ONNX_NAMES = ("inference.onnx", "model.onnx")


class EngineError(RuntimeError):
    """The model directory cannot be run by the requested engine."""


class Engine(Protocol):
    input_names: list[str]

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """Outputs in the model's declared order."""
        ...


def engine_kind(name: str) -> str:
    try:
        return ENGINE_ALIASES[name.lower()]
    except KeyError:
        raise EngineError(f"unknown engine {name!r}; use one of {sorted(set(ENGINE_ALIASES))}") from None


def onnx_file(model_dir: Path) -> Path:
    for name in ONNX_NAMES:
        if (model_dir / name).exists():
            return model_dir / name
    raise EngineError(f"{model_dir}: no {' or '.join(ONNX_NAMES)}; convert a Paddle model with "
                      f"`trayscan models convert {model_dir} {model_dir}` or use engine='paddle'")


class OnnxEngine:
    """One ONNX Runtime session. Spinning is off so that two sessions on 2 cores do not burn each other's time."""

    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3  # paddle2onnx graphs carry unused initializers: warnings, not errors
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        return list(self.session.run(self.output_names, dict(feeds)))


class PaddleEngine:
    """Paddle Inference with oneDNN on CPU; reads Paddle 3 `inference.json` and Paddle 2.x `inference.pdmodel`.

    A predictor is not thread-safe, so calls are serialised with a lock.
    """

    def __init__(self, model_dir: Path, threads: int) -> None:
        try:
            import paddle.inference as pi
        except ImportError as err:
            raise EngineError("engine 'paddle' needs paddlepaddle: pip install 'trayscan[paddle]'") from err
        from trayscan.inference.convert import paddle_model_files

        program, params = paddle_model_files(model_dir)
        config = pi.Config(str(program), str(params))
        config.disable_gpu()
        config.enable_mkldnn()
        config.set_cpu_math_library_num_threads(max(1, threads))
        config.switch_ir_optim(True)
        config.disable_glog_info()
        # enable_memory_optim() fails on PIR (.json) programs in paddle 3.3 (shared/NOTES.md): left off.
        self.predictor = pi.create_predictor(config)
        self.input_names = list(self.predictor.get_input_names())
        self.output_names = list(self.predictor.get_output_names())
        self._lock = threading.Lock()

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        with self._lock:
            for name in self.input_names:
                handle = self.predictor.get_input_handle(name)
                arr = np.ascontiguousarray(feeds[name])
                handle.reshape(list(arr.shape))
                handle.copy_from_cpu(arr)
            self.predictor.run()
            return [self.predictor.get_output_handle(n).copy_to_cpu() for n in self.output_names]


def open_engine(model_dir: Path, engine: str, threads: int) -> Engine:
    kind = engine_kind(engine)
    if kind == "onnx":
        return OnnxEngine(onnx_file(model_dir), threads)
    return PaddleEngine(model_dir, threads)
