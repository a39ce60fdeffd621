"""What an embedder's wrong answers on a synth set are: another flavour, another pack size, both, another edition
of the same design, or another family. Reads the SKU names that `trayscan synth` writes ("brand flavour size
[edition]"); nearest gallery photo, 4 views, as `trayscan train embedder-eval` answers.

    .venv/bin/python scripts/sibling_errors.py models/embedder/lcnet data/mesh-test
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

from trayscan.inference import load_embedder
from trayscan.inference.views import with_rotations
from trayscan.train.crops import extract, read_catalog

PACK_SIZE = re.compile(r"^\d+(\.\d+)?(g|kg|ml|l)$", re.IGNORECASE)


def error_kind(truth: dict[str, str], answer: dict[str, str]) -> str:
    if truth["family"] != answer["family"]:
        return "another family"
    words_t, words_a = truth["name"].split(), answer["name"].split()
    size_t = [w for w in words_t if PACK_SIZE.match(w)]
    size_a = [w for w in words_a if PACK_SIZE.match(w)]
    rest_t = [w for w in words_t if not PACK_SIZE.match(w)]
    rest_a = [w for w in words_a if not PACK_SIZE.match(w)]
    if size_t != size_a and rest_t == rest_a:
        return "pack size"
    if size_t == size_a and rest_t != rest_a:
        # an edition adds words to the same flavour's name
        return "edition" if set(rest_t) < set(rest_a) or set(rest_a) < set(rest_t) else "flavour"
    return "flavour and pack size"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", type=Path)
    p.add_argument("data", type=Path)
    p.add_argument("--views", type=int, default=4)
    args = p.parse_args()
    catalog = read_catalog(args.data)
    crops = extract(args.data, side=100_000, splits={"novel"}, margin=0.0, log_every=0)
    features = with_rotations(load_embedder(args.model, engine="onnx", threads=2), args.views).embed(crops.box_crops())
    gallery, queries = crops.source == 1, crops.source == 0
    answers = crops.labels[gallery][(features[queries] @ features[gallery].T).argmax(axis=1)]
    truths = crops.labels[queries]
    kinds = Counter(error_kind(catalog[int(t)], catalog[int(a)]) for t, a in zip(truths, answers, strict=True) if t != a)
    n = len(truths)
    print(json.dumps({"model": str(args.model), "data": str(args.data), "queries": n,
                      "recall_at_1": round(float((answers == truths).mean()), 4),
                      "errors_share_of_queries": {k: round(v / n, 4) for k, v in kinds.most_common()}}))


if __name__ == "__main__":
    main()
