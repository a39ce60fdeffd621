"""Preprocessing declared in a model's config, applied the way PaddleClas / PaddleDetection deploy code does.

Embedders use PaddleClas `RecPreProcess.transform_ops` (ResizeImage, NormalizeImage, ToCHWImage); detectors use
PaddleDetection's exported `Preprocess` list (Resize, NormalizeImage, Permute, PadStride). Both deploy codes feed
RGB images, so BGR input is converted first. Unknown operations raise: a silently skipped step gives wrong
features, not an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import cv2
import numpy as np

# PaddleDetection's `interp` values are cv2 interpolation codes.
_CV2_INTERP = {0: cv2.INTER_NEAREST, 1: cv2.INTER_LINEAR, 2: cv2.INTER_CUBIC, 3: cv2.INTER_AREA, 4: cv2.INTER_LANCZOS4}


class PreprocessError(ValueError):
    """The model config declares preprocessing this module cannot apply."""


def _scale_value(value: Any) -> float:
    # PaddleClas configs write the scale as a number or as the string "1.0/255.0".
    if isinstance(value, str):
        num, _, den = value.partition("/")
        return float(num) / float(den) if den else float(num)
    return float(value)


def _single_op(op: Any) -> tuple[str, dict[str, Any]]:
    """PaddleClas writes `- ResizeImage: {size: 224}`; PaddleDetection writes `- {type: Resize, ...}`."""
    if isinstance(op, Mapping) and "type" in op:
        params = {k: v for k, v in op.items() if k != "type"}
        return str(op["type"]), params
    if isinstance(op, Mapping) and len(op) == 1:
        name, params = next(iter(op.items()))
        return str(name), dict(params or {})
    raise PreprocessError(f"cannot read preprocessing step {op!r}")


@dataclass(frozen=True)
class RecPreprocess:
    """Crop -> RGB -> square resize -> (x*scale - mean)/std -> CHW, batched."""

    width: int
    height: int
    scale: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: int = cv2.INTER_LINEAR

    @classmethod
    def from_transform_ops(cls, ops: Sequence[Any]) -> RecPreprocess:
        size: tuple[int, int] | None = None
        scale, mean, std = 1.0 / 255.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
        chw = False
        for raw in ops:
            name, p = _single_op(raw)
            if name == "ResizeImage":
                if "size" not in p:
                    raise PreprocessError("ResizeImage without size (resize_short is not supported)")
                s = p["size"]
                size = (int(s), int(s)) if isinstance(s, int | float) else (int(s[0]), int(s[1]))
            elif name == "NormalizeImage":
                if p.get("order", "") not in ("", "hwc"):
                    raise PreprocessError(f"NormalizeImage order {p.get('order')!r} not supported")
                scale = _scale_value(p.get("scale", scale))
                mean = tuple(float(v) for v in p.get("mean", mean))  # type: ignore[assignment]
                std = tuple(float(v) for v in p.get("std", std))  # type: ignore[assignment]
            elif name == "ToCHWImage":
                chw = True
            else:
                raise PreprocessError(f"unsupported embedder preprocessing step {name!r}")
        if size is None or not chw:
            raise PreprocessError("embedder preprocessing needs ResizeImage and ToCHWImage")
        return cls(width=size[0], height=size[1], scale=scale, mean=mean, std=std)

    @cached_property
    def _normalised(self) -> np.ndarray:
        """(v * scale - mean) / std in float32 for every 8-bit value v of each RGB channel, as a cv2.LUT table:
        the same numbers as computing it per pixel, about 3x faster on a tray's crops (4 views of 13 crops: 10
        against 29 ms)."""
        values = np.arange(256, dtype=np.float32)[:, None]
        table = (values * np.float32(self.scale) - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return np.ascontiguousarray(table.reshape(1, 256, 3))

    def __call__(self, crops_bgr: Sequence[np.ndarray]) -> np.ndarray:
        batch = np.empty((len(crops_bgr), 3, self.height, self.width), dtype=np.float32)
        for i, crop in enumerate(crops_bgr):
            rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
            resized = cv2.resize(rgb, (self.width, self.height), interpolation=self.interpolation)
            batch[i] = cv2.LUT(resized, self._normalised).transpose(2, 0, 1)
        return batch


@dataclass(frozen=True)
class DetPreprocess:
    """Image -> RGB -> resize -> normalise -> CHW (+ pad to stride); also the `scale_factor` / `im_shape` feeds."""

    target_size: tuple[int, int]  # (height, width), PaddleDetection order
    keep_ratio: bool
    interpolation: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    is_scale: bool
    pad_stride: int = 0

    @classmethod
    def from_infer_cfg(cls, ops: Sequence[Any]) -> DetPreprocess:
        resize: dict[str, Any] | None = None
        norm: dict[str, Any] = {}
        permute = False
        stride = 0
        for raw in ops:
            name, p = _single_op(raw)
            if name == "Resize":
                resize = p
            elif name == "NormalizeImage":
                if p.get("norm_type", "mean_std") != "mean_std":
                    raise PreprocessError(f"NormalizeImage norm_type {p.get('norm_type')!r} not supported")
                norm = p
            elif name == "Permute":
                permute = True
            elif name == "PadStride":
                stride = int(p.get("stride", 0))
            else:
                raise PreprocessError(f"unsupported detector preprocessing step {name!r}")
        if resize is None or not permute:
            raise PreprocessError("detector preprocessing needs Resize and Permute")
        target = resize["target_size"]
        th, tw = (int(target), int(target)) if isinstance(target, int | float) else (int(target[0]), int(target[1]))
        return cls(
            target_size=(th, tw),
            keep_ratio=bool(resize.get("keep_ratio", False)),
            interpolation=_CV2_INTERP.get(int(resize.get("interp", 1)), cv2.INTER_LINEAR),
            mean=tuple(float(v) for v in norm.get("mean", (0.0, 0.0, 0.0))),  # type: ignore[arg-type]
            std=tuple(float(v) for v in norm.get("std", (1.0, 1.0, 1.0))),  # type: ignore[arg-type]
            is_scale=bool(norm.get("is_scale", True)),
            pad_stride=stride,
        )

    def __call__(self, image_bgr: np.ndarray) -> dict[str, np.ndarray]:
        h, w = image_bgr.shape[:2]
        th, tw = self.target_size
        if self.keep_ratio:
            # PaddleDetection: shorter side to min(target), longer side capped at max(target).
            ratio = min(min(th, tw) / min(h, w), max(th, tw) / max(h, w))
            sy = sx = ratio
        else:
            sy, sx = th / h, tw / w
        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        resized = cv2.resize(rgb, None, fx=sx, fy=sy, interpolation=self.interpolation)
        scale = np.float32(1.0 / 255.0 if self.is_scale else 1.0)
        img: np.ndarray = (resized.astype(np.float32) * scale - np.asarray(self.mean, np.float32)) / np.asarray(
            self.std, np.float32)
        chw = img.transpose(2, 0, 1)
        rh, rw = chw.shape[1:]
        if self.pad_stride > 0:
            ph = int(np.ceil(rh / self.pad_stride) * self.pad_stride)
            pw = int(np.ceil(rw / self.pad_stride) * self.pad_stride)
            padded = np.zeros((3, ph, pw), dtype=np.float32)
            padded[:, :rh, :rw] = chw
            chw = padded
        return {
            "image": np.ascontiguousarray(chw[None], dtype=np.float32),
            "scale_factor": np.asarray([[sy, sx]], dtype=np.float32),
            "im_shape": np.asarray([[rh, rw]], dtype=np.float32),
        }
