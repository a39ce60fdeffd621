"""Run as a script: serve the app in this process, post `--clients` concurrent copies of one image to
/v1/checkout and print the growth of the resident set's peak (MB) over the resident set before the posts."""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from tests.service.conftest import make_settings
from tests.service.fakes import BlobDetector, HistogramEmbedder
from trayscan.api import create_app


def bomb(kind: str, side: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((side, side, 3), np.uint8)).save(buffer, format=kind)
    return buffer.getvalue()


def status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process. Not ru_maxrss: Linux keeps that across exec, so a child of
    a large pytest process would start with the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no {field}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", default="PNG")
    parser.add_argument("--side", type=int, default=6000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args(argv)
    data = bomb(args.kind, args.side)
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp), server={"cpu_threads": args.clients})
        app = create_app(settings, detector=BlobDetector(), embedder=HistogramEmbedder())
        with TestClient(app) as client, ThreadPoolExecutor(args.clients) as pool:
            def post(_: int) -> int:
                files = {"image": ("bomb", data, f"image/{args.kind.lower()}")}
                return client.post("/v1/checkout", files=files).status_code

            assert post(0) == 503  # decoded, then refused: the gallery is empty
            before = status_mb("VmRSS")
            peak_before = status_mb("VmHWM")
            Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the present RSS
            statuses = list(pool.map(post, range(args.clients)))
            peak = status_mb("VmHWM")
    print(f"bytes={len(data)} statuses={sorted(set(statuses))} rss_before={before:.0f} "
          f"peak_before={peak_before:.0f} peak={peak:.0f} growth={peak - before:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
