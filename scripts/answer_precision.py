"""Does a crop's similarity tell a right answer from a wrong one? For the ground-truth crops of a `trayscan synth`
folder's novel SKUs matched to their enrolment photos (the shipped embedder, 4 views, nearest photo), prints per
similarity threshold the share of crops answered, the share of answers that are right, and the shares of all crops
answered right and answered wrong.

    .venv/bin/python scripts/answer_precision.py data/mesh-val
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from trayscan.inference import load_embedder
from trayscan.inference.views import with_rotations
from trayscan.train.crops import extract


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", type=Path, help="a trayscan synth folder")
    p.add_argument("--model", type=Path, default=Path("models/embedder/lcnet"))
    p.add_argument("--thresholds", default="0.5,0.6,0.65,0.7,0.75,0.8")
    args = p.parse_args()
    crops = extract(args.data, side=100_000, splits={"novel"}, margin=0.0, log_every=0)
    features = with_rotations(load_embedder(args.model, engine="onnx", threads=1), 4).embed(crops.box_crops())
    gallery, queries = np.flatnonzero(crops.source == 1), np.flatnonzero(crops.source == 0)
    similarities = features[queries] @ features[gallery].T
    best = similarities.max(axis=1)
    right = crops.labels[gallery][similarities.argmax(axis=1)] == crops.labels[queries]
    print(f"{args.data}: {len(queries)} crops, recall@1 {right.mean():.3f}")
    print("threshold  answered  right/answered  right  wrong")
    for threshold in (float(t) for t in args.thresholds.split(",")):
        answered = best >= threshold
        precision = right[answered].mean() if answered.any() else float("nan")
        print(f"{threshold:9.2f}  {answered.mean():8.3f}  {precision:14.3f}  {(right & answered).mean():5.3f}  "
              f"{(~right & answered).mean():5.3f}")


if __name__ == "__main__":
    main()
