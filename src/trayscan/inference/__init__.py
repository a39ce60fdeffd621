"""Model inference: one interface (base.py) for detectors and embedders, ONNX Runtime and Paddle engines."""

from trayscan.inference.base import Detection, Detector, Embedder
from trayscan.inference.loader import load_detector, load_embedder

__all__ = ["Detection", "Detector", "Embedder", "load_detector", "load_embedder"]
