"""Could printed text decide between near-tied siblings? On tray crops whose nearest SKUs (the shipped embedder, 4
views) are near-tied siblings, PP-OCRv4 mobile (rapidocr-onnxruntime 1.4.4) reads the crop, and a word of one
candidate's name that the other candidates' names lack decides. Prints how often the right SKU's word is read, how
often a wrong one's, and the median time per crop. With --checks, also what the service's print and centre checks
answer for the same crops, and what the words would add to them (a decided word overrides the checks).

    .venv/bin/pip install --no-deps rapidocr-onnxruntime==1.4.4 pyclipper shapely   # its models are in the wheel
    .venv/bin/python scripts/ocr_sibling_words.py data/mesh-val --det-side 640 --angle-classifier
    .venv/bin/python scripts/ocr_sibling_words.py data/emb-val-novel --crops 40 --checks
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from trayscan.config import SiblingCheckSettings
from trayscan.inference import load_embedder
from trayscan.inference.views import with_rotations
from trayscan.pipeline.text_check import decide_by_words, distinguishing, words
from trayscan.train.crops import extract, read_catalog
from trayscan.train.embedder_eval import checked_top1


def with_checks(crops, images, features, gallery, queries, similarities, read_crops) -> dict[str, int]:
    """Right answers among the read crops: the print and centre checks alone, and with a decided word first."""
    asked = [q for q, _ in read_crops]
    checked = checked_top1([images[queries[q]] for q in asked], crops.labels[gallery],
                           [images[g] for g in gallery], similarities[asked],
                           query_feats=features[queries[asked]], gallery_feats=features[gallery])
    truth = crops.labels[queries[asked]]
    words_first = np.array([decided if decided is not None else c for (_, decided), c in zip(read_crops, checked, strict=True)])
    return {"checks_right": int((checked == truth).sum()), "checks_then_words_right": int((words_first == truth).sum())}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", type=Path, help="a trayscan synth folder")
    p.add_argument("--split", default="novel", help="catalog split (novel, train)")
    p.add_argument("--crops", type=int, default=60, help="near-tied crops read (a random sample)")
    p.add_argument("--det-side", type=int, default=320, help="the text detector's longer input side")
    p.add_argument("--angle-classifier", action="store_true", help="turn upside-down text lines first")
    p.add_argument("--model", type=Path, default=Path("models/embedder/lcnet"))
    p.add_argument("--checks", action="store_true", help="compare with the service's print and centre checks")
    args = p.parse_args()
    from rapidocr_onnxruntime import RapidOCR

    catalog = read_catalog(args.data)
    crops = extract(args.data, side=100_000, splits={args.split}, margin=0.0, log_every=0)
    images = crops.box_crops()
    features = with_rotations(load_embedder(args.model, engine="onnx", threads=1), 4).embed(images)
    gallery, queries = np.flatnonzero(crops.source == 1), np.flatnonzero(crops.source == 0)
    similarities = features[queries] @ features[gallery].T
    engine = RapidOCR(use_cls=args.angle_classifier, det_limit_side_len=args.det_side,
                      intra_op_num_threads=1, inter_op_num_threads=1)
    margin = SiblingCheckSettings().margin  # the service's near-tie window
    tally = {"near_tied_crops": 0, "nearest_right": 0, "right_word_read": 0, "wrong_word_read": 0,
             "decided_right": 0, "decided_wrong": 0}
    seconds = []
    read_crops: list[tuple[int, int | None]] = []  # (query, the SKU its words decide or None)
    for q in np.random.default_rng(0).permutation(len(queries)):
        row = similarities[q]
        order = np.argsort(-row)
        skus: list[int] = []
        for g in order:
            if row[g] < row[order[0]] - margin:
                break
            if int(crops.labels[gallery[g]]) not in skus:
                skus.append(int(crops.labels[gallery[g]]))
        truth = int(crops.labels[queries[q]])
        if len(skus) < 2 or truth not in skus:
            continue
        tally["near_tied_crops"] += 1
        tally["nearest_right"] += skus[0] == truth
        start = time.perf_counter()
        result, _ = engine(images[queries[q]])
        seconds.append(time.perf_counter() - start)
        read = words(" ".join(line[1] for line in result or []))
        unique = distinguishing({sku: [catalog[sku]["name"]] for sku in skus})  # the service's rule, names only
        tally["right_word_read"] += bool(unique[truth] & read)
        tally["wrong_word_read"] += any(unique[sku] & read for sku in skus if sku != truth)
        decided = decide_by_words(read, unique)
        if decided is not None:
            tally["decided_right" if decided == truth else "decided_wrong"] += 1
        read_crops.append((int(q), decided))
        if tally["near_tied_crops"] == args.crops:
            break
    tally["ms_per_crop_median"] = round(1000 * float(np.median(seconds)), 1)
    if args.checks:
        tally.update(with_checks(crops, images, features, gallery, queries, similarities, read_crops))
    print(json.dumps({"data": str(args.data), "det_side": args.det_side, "angle_classifier": args.angle_classifier,
                      **tally}))


if __name__ == "__main__":
    main()
