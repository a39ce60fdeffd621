"""How much printed text PaddleOCR's PP-OCRv4 mobile models read on tray crops: the first N annotated items of a
synth folder, cropped at their true boxes, read by rapidocr-onnxruntime; prints each product's name beside the
words read and the median time per crop.

    .venv/bin/pip install --no-deps rapidocr-onnxruntime==1.4.4 pyclipper shapely   # its models are in the wheel
    .venv/bin/python scripts/ocr_probe.py data/mesh-val --det-side 640 --angle-classifier
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
from pathlib import Path

import cv2


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", type=Path, help="a trayscan synth folder")
    p.add_argument("--items", type=int, default=20)
    p.add_argument("--det-side", type=int, default=320, help="the text detector's longer input side")
    p.add_argument("--angle-classifier", action="store_true", help="turn upside-down text lines first")
    args = p.parse_args()
    from rapidocr_onnxruntime import RapidOCR

    coco = json.loads((args.data / "annotations.json").read_text())
    skus = {c["id"]: c["name"] for c in coco["categories"]}
    files = {i["id"]: i["file_name"] for i in coco["images"]}
    with (args.data / "catalog.csv").open(newline="") as handle:
        names = {row["sku"]: row["name"] for row in csv.DictReader(handle)}
    engine = RapidOCR(use_cls=args.angle_classifier, det_limit_side_len=args.det_side,
                      intra_op_num_threads=1, inter_op_num_threads=1)
    seconds = []
    for annotation in coco["annotations"][: args.items]:
        image = cv2.imread(str(args.data / files[annotation["image_id"]]))
        x, y, w, h = (int(v) for v in annotation["bbox"])
        start = time.perf_counter()
        result, _ = engine(image[y : y + h, x : x + w], use_cls=args.angle_classifier)
        seconds.append(time.perf_counter() - start)
        sku = skus[annotation["category_id"]]
        print(f"{names.get(sku, sku)!r:44} {[line[1] for line in result or []]}")
    print(f"median {statistics.median(seconds) * 1000:.0f} ms per crop, 1 thread")


if __name__ == "__main__":
    main()
