"""How often each enrolment-box rule (`pipeline.enrolment_box`) finds the product of an enrolment photo: the share of
a `trayscan synth` folder's enrolment photos whose chosen box overlaps the product's true box at IoU >= 0.7, per
camera, with the shipped detector at the service's detection threshold.

    .venv/bin/python scripts/enrolment_boxes.py data/mesh-val-kiosk
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import cv2

from trayscan.boxes import iou_matrix
from trayscan.config import PipelineSettings
from trayscan.gallery.enrolment import product_box
from trayscan.inference import load_detector
from trayscan.pipeline.detect import detect_items

RULES = ("framed", "union")


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    return float(iou_matrix([a], [b])[0, 0])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", type=Path, help="a trayscan synth folder (its enrol/annotations.json)")
    p.add_argument("--model", type=Path, default=Path("models/detector/mainbody"))
    args = p.parse_args()
    settings = PipelineSettings()
    detector = load_detector(args.model, engine="onnx", threads=2)
    listing = json.loads((args.data / "enrol" / "annotations.json").read_text(encoding="utf-8"))
    truth = {a["image_id"]: a["bbox"] for a in listing["annotations"]}
    found: dict[tuple[str, str], int] = defaultdict(int)
    photos: dict[str, int] = defaultdict(int)
    for image in listing["images"]:
        photo = cv2.imread(str(args.data / image["file_name"]))
        x, y, w, h = truth[image["id"]]
        detections = detect_items(detector, photo, settings.detection_threshold, settings.max_detections)
        camera = "kiosk" if image.get("source") == "kiosk" else "other"
        for group in (image.get("source", "other"), "all"):
            photos[group] += 1
            for rule in RULES:
                box = product_box(detections, photo.shape[:2], rule, camera)[0] if detections else None
                if box is not None and iou(box, (x, y, x + w, y + h)) >= 0.7:
                    found[group, rule] += 1
    print(f"{'camera':8s} {'photos':>6s} " + " ".join(f"{rule:>8s}" for rule in RULES))
    for group, count in sorted(photos.items()):
        print(f"{group:8s} {count:6d} " + " ".join(f"{found[group, rule] / count:8.3f}" for rule in RULES))


if __name__ == "__main__":
    main()
