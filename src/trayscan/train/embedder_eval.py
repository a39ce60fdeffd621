"""`trayscan train embedder-eval`: retrieval accuracy and speed of an exported embedder on held-out data.

Gallery = enrolment photos of the dataset's `novel` SKUs (cut by their ground-truth box); queries = ground-truth
crops of the held-out trays (made with another --tray-seed, --tray-skus novel). A query is right when its
nearest gallery photo (cosine) shows the same SKU. Wrong answers inside the same product family (flavour or
pack-size variants) are counted separately. Runs in the runtime venv (ONNX) or the training venv (both engines).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from trayscan.config import SiblingCheckSettings, SizeCheckSettings
from trayscan.inference import load_embedder
from trayscan.inference.views import EXTRA_VIEWS, with_rotations
from trayscan.pipeline.centres import CentreEvidence, unit_centres
from trayscan.pipeline.decide import Decision
from trayscan.pipeline.search import Neighbour
from trayscan.pipeline.siblings import check_siblings, detail_view
from trayscan.pipeline.size_check import SizeEvidence
from trayscan.train.crops import extract, read_catalog

NATIVE = 100_000  # crop side cap: keep native resolution, the model's preprocessing resizes


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="trayscan train embedder-eval", description=__doc__.split("\n")[0])
    p.add_argument("--model", type=Path, default=Path("models/embedder/lcnet"))
    p.add_argument("--data", type=Path, required=True, help="held-out synth output (novel-SKU trays + enrolment)")
    p.add_argument("--split", default="novel", choices=("novel", "train", "all"),
                   help="catalog split evaluated (novel; train for seen SKUs; all for a world no model saw)")
    p.add_argument("--engine", default="onnx")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--speed-engines", default="onnx,paddle", help="engines timed, '' for none (paddle skipped if absent)")
    p.add_argument("--speed-runs", type=int, default=50)
    p.add_argument("--gallery-rotations", default="0",
                   help="also enrol each gallery photo turned by these angles, e.g. 0,90,180,270 (queries untouched)")
    p.add_argument("--embed-rotations", type=int, default=1, choices=sorted(EXTRA_VIEWS),
                   help="average each crop's feature over this many right-angle rotations, as the service does "
                   "(setting models.embed_rotations); gallery and queries alike")
    p.add_argument("--sibling-check", action="store_true",
                   help="also report recall@1 after the service's sibling check (default settings): the nearest "
                   "SKU re-ranked among near-tied SKUs by geometric verification against their gallery photos")
    p.add_argument("--size-check", action="store_true",
                   help="also report recall@1 after the size check alone (embedding similarity plus the size "
                   "score among near-tied SKUs; kiosk-camera enrolment photos and tray crops) and, with "
                   "--sibling-check, after both")
    p.add_argument("--sibling-keypoints", type=int, help="the print check's SIFT keypoints kept per view (0: all; "
                   "default: the service's pipeline.sibling_check.max_keypoints)")
    p.add_argument("--centre-check", action="store_true",
                   help="also report recall@1 with each near-tied SKU's similarity taken to its centre (the mean of "
                   "its gallery embeddings) instead of its nearest photo, alone and with the other checks asked for")
    p.add_argument("--size-weight", type=float, help="size check weight (default: the service's)")
    p.add_argument("--size-spread", type=float, help="size check spread (default: the service's)")
    p.add_argument("--json", type=Path, help="write the figures here (e.g. MODEL_DIR/eval.json)")
    return p.parse_args(argv)


def retrieval(gallery_feats: np.ndarray, gallery_labels: np.ndarray, query_feats: np.ndarray,
              query_labels: np.ndarray, family_of: dict[int, str], top1: np.ndarray | None = None) -> dict[str, float]:
    """Retrieval figures; `top1` replaces the nearest neighbour's label as the answer (the sibling check's)."""
    sims = query_feats @ gallery_feats.T
    order = np.argsort(-sims, axis=1)
    if top1 is None:
        top1 = gallery_labels[order[:, 0]]
    right = top1 == query_labels
    # recall@5 over distinct SKUs: the right SKU among the first five different SKUs retrieved
    r5 = []
    for qi in range(len(query_labels)):
        seen: list[int] = []
        for g in order[qi]:
            lab = int(gallery_labels[g])
            if lab not in seen:
                seen.append(lab)
            if len(seen) == 5:
                break
        r5.append(int(query_labels[qi]) in seen)
    same_family = np.array([family_of[int(t)] == family_of[int(q)] for t, q in zip(top1, query_labels, strict=True)])
    wrong = ~right
    return {
        "queries": int(len(query_labels)),
        "recall_at_1": float(right.mean()),
        "recall_at_5_skus": float(np.mean(r5)),
        "family_confusion_rate": float((wrong & same_family).mean()),  # share of all queries
        "errors_within_family": float((wrong & same_family).sum() / max(1, wrong.sum())),  # share of errors
    }


def checked_top1(images: list[np.ndarray], gallery_labels: np.ndarray, gallery_images: list[np.ndarray] | None,
                 similarities: np.ndarray, sizes: tuple[np.ndarray, np.ndarray, SizeCheckSettings] | None = None,
                 check: SiblingCheckSettings | None = None, query_feats: np.ndarray | None = None,
                 gallery_feats: np.ndarray | None = None) -> np.ndarray:
    """Per query, the SKU label the service's candidate check leaves on top of the nearest-neighbour answer
    (no similarity threshold: every query has an answer, as for recall@1): the print check when gallery images
    are given, the size check when `sizes` (query sizes, gallery kiosk sizes with NaN for other cameras, settings)
    is, the SKUs' centres when the query and gallery features are."""
    check = check or SiblingCheckSettings()
    views = ({i: detail_view(image, check.detail_side, check.max_keypoints) for i, image in enumerate(gallery_images)}
             if gallery_images is not None else None)
    enrolled: dict[str, list[float]] = {}
    if sizes is not None:
        for label, value in zip(gallery_labels, sizes[1], strict=True):
            if np.isfinite(value):
                enrolled.setdefault(str(int(label)), []).append(float(value))
    centres = (unit_centres(gallery_feats, [str(int(label)) for label in gallery_labels])
               if gallery_feats is not None else None)
    top1 = []
    for q, (image, row) in enumerate(zip(images, similarities, strict=True)):
        order = np.argsort(-row)[: check.neighbours]
        neighbours = [Neighbour(int(g), str(int(gallery_labels[g])), float(row[g])) for g in order]
        decision = Decision(neighbours[0].sku, neighbours[0].similarity, neighbours[0])
        size = (SizeEvidence(float(sizes[0][q]), enrolled, sizes[2])
                if sizes is not None and np.isfinite(sizes[0][q]) else None)
        details = (lambda ids: {i: views[i] for i in ids}) if views is not None else None
        centre = (CentreEvidence(query_feats[q], centres)
                  if centres is not None and query_feats is not None else None)
        checked = check_siblings(details, image, decision, neighbours, check, threshold=-1.0, size=size,
                                 centre=centre)
        top1.append(int(checked.sku or -1))
    return np.array(top1)


def rotated(image: np.ndarray, angle: int) -> np.ndarray:
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return image if angle % 360 == 0 else cv2.rotate(image, codes[angle % 360])


def speed(model: Path, engine: str, threads: int, crops: list[np.ndarray], runs: int,
          rotations: int = 1) -> dict[str, float]:
    """Median ms per crop for one batched call of 10 crops (preprocessing and all rotated views included),
    after warm-up."""
    embedder = with_rotations(load_embedder(model, engine=engine, threads=threads), rotations)
    batch = crops[:10]
    for _ in range(5):
        embedder.embed(batch)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        embedder.embed(batch)
        times.append(time.perf_counter() - t0)
    return {"ms_per_crop_batch10": float(np.median(times) * 1000 / len(batch)),
            "ms_per_crop_batch10_p90": float(np.percentile(times, 90) * 1000 / len(batch))}


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    catalog = read_catalog(args.data)
    family_of = {cid: row["family"] for cid, row in catalog.items()}
    splits = {"train", "novel"} if args.split == "all" else {args.split}
    crops = extract(args.data, side=NATIVE, splits=splits, margin=0.0, log_every=0)
    gallery_mask, query_mask = crops.source == 1, crops.source == 0
    images = crops.box_crops()
    embedder = with_rotations(load_embedder(args.model, engine=args.engine, threads=args.threads),
                              args.embed_rotations)
    t0 = time.perf_counter()
    feats = embedder.embed(images)
    embed_s = time.perf_counter() - t0
    result: dict[str, Any] = {
        "model": str(args.model), "data": str(args.data), "split": args.split, "engine": args.engine,
        "embed_rotations": args.embed_rotations,
        "gallery_images": int(gallery_mask.sum()), "skus": int(len(np.unique(crops.labels[gallery_mask]))),
        "embed_seconds_all": round(embed_s, 2),
    }
    g_feats, g_labels = feats[gallery_mask], crops.labels[gallery_mask]
    angles = [int(a) for a in args.gallery_rotations.split(",") if int(a) % 360]
    if angles:  # extra gallery entries: the enrolment photo turned, as items lie on a tray at any angle
        g_images = [img for img, g in zip(images, gallery_mask, strict=True) if g]
        extra = [embedder.embed([rotated(img, a) for img in g_images]) for a in angles]
        g_feats = np.concatenate([g_feats, *extra])
        g_labels = np.concatenate([g_labels] * (1 + len(angles)))
    result["gallery_rotations"] = [0, *angles]
    result["all"] = retrieval(g_feats, g_labels, feats[query_mask], crops.labels[query_mask], family_of)
    visible = crops.visible[query_mask]
    for name, sel in (("visible_ge_0.5", visible >= 0.5), ("visible_lt_0.5", visible < 0.5)):
        if sel.any():
            result[name] = retrieval(g_feats, g_labels, feats[query_mask][sel], crops.labels[query_mask][sel],
                                     family_of)
    query_images = [img for img, q in zip(images, query_mask, strict=True) if q]
    # The checks run on the enrolment photos as they are (no turned copies).
    gallery_images = [img for img, g in zip(images, gallery_mask, strict=True) if g]
    plain_feats, plain_labels = feats[gallery_mask], crops.labels[gallery_mask]
    plain_sims = feats[query_mask] @ plain_feats.T
    size_settings = SizeCheckSettings(**{k: v for k, v in (("weight", args.size_weight),
                                                           ("spread", args.size_spread)) if v is not None})
    sizes = (crops.kiosk_size[query_mask], crops.kiosk_size[gallery_mask], size_settings)
    check = SiblingCheckSettings(**({} if args.sibling_keypoints is None else {"max_keypoints": args.sibling_keypoints}))
    # Every combination of the checks asked for, named by its checks in this order (all_sibling_size_check ...).
    asked = [name for name, wanted in (("sibling", args.sibling_check), ("size", args.size_check),
                                       ("centre", args.centre_check)) if wanted]
    combinations = [[n for i, n in enumerate(asked) if mask >> i & 1] for mask in range(1, 2 ** len(asked))]
    for names in sorted(combinations, key=lambda c: (len(c), [asked.index(n) for n in c])):
        key = f"all_{'_'.join(names)}_check"
        started = time.perf_counter()
        checked = checked_top1(query_images, plain_labels, gallery_images if "sibling" in names else None,
                               plain_sims, sizes if "size" in names else None, check,
                               feats[query_mask] if "centre" in names else None,
                               plain_feats if "centre" in names else None)
        result[key] = retrieval(plain_feats, plain_labels, feats[query_mask], crops.labels[query_mask], family_of,
                                checked)
        result[key]["check_seconds"] = round(time.perf_counter() - started, 1)  # gallery views included
    if args.sibling_check:
        result["sibling_check"] = check.model_dump()
    if args.size_check:
        result["size_check"] = size_settings.model_dump()
        result["kiosk_enrolment_photos"] = int(np.isfinite(crops.kiosk_size[gallery_mask]).sum())
    result["speed"] = {}
    for engine in filter(None, args.speed_engines.split(",")):
        if engine == "paddle" and importlib.util.find_spec("paddle") is None:
            continue
        result["speed"][engine] = speed(args.model, engine, args.threads, query_images, args.speed_runs,
                                          args.embed_rotations)
    return result


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    result = evaluate(args)
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
