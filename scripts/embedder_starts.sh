#!/bin/bash
# The embedder's starts at equal training time (models/embedder/lcnet/MODEL_CARD.md, "Starts"): PP-LCNet x1.0 from
# random weights and from PaddleClas PULC's pretrained backbone (`make train-env` imports it), one recipe, both runs
# at once on 1 thread each, BUDGET minutes of training each, on the mesh worlds' crops; then recall@1 on the mesh
# validation and held-out crops.
# Resumable: a rerun continues each run from its checkpoint.
set -euo pipefail
BUDGET=${BUDGET:-25}
OUT=${OUT:-build/emb-starts}
PULC=build/pretrained/paddle/pplcnet_x1_0_pulc_orientation_rec_backbone.pdparams
mkdir -p "$OUT"
run() {  # name, extra arguments
  local name=$1; shift
  OMP_NUM_THREADS=1 .venv-train/bin/trayscan train embedder --data data/mesh-train --extra-data data/mesh-train-w2 \
    --extra-data data/mesh-train-w4 --extra-data data/mesh-train-w5 \
    --out "$OUT/$name" --ckpt-dir "$OUT/ckpt-$name" --scale 1.0 --size 160 --batch 64 --lr 2e-3 --warmup-steps 100 \
    --margin-ramp-steps 300 --aug-ramp-steps 300 --family-batches --triplet-weight 1.0 --minutes "$BUDGET" --seed 0 \
    --threads 1 --workers 0 "$@" > "$OUT/$name.log" 2>&1
}
run random &
run pulc --init "$PULC" &
wait
for name in random pulc; do
  for set in mesh-val mesh-test mesh-holdout; do
    .venv/bin/trayscan train embedder-eval --model "$OUT/$name" --data "data/$set" --embed-rotations 4 \
      --speed-engines '' --json "$OUT/$name-$set.json" > /dev/null
  done
done
.venv/bin/python - "$OUT" <<'P'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
print("| set | x1.0 random | x1.0 PULC start |\n|---|---|---|")
for s in ("mesh-val", "mesh-test", "mesh-holdout"):
    cells = []
    for name in ("random", "pulc"):
        a = json.loads((out / f"{name}-{s}.json").read_text())["all"]
        cells.append(f"{a['recall_at_1']:.3f} ({a['recall_at_5_skus']:.3f})")
    print(f"| `data/{s}` | " + " | ".join(cells) + " |")
for name in ("random", "pulc"):
    t = json.loads((out / name / "training.json").read_text())
    print(f"{name}: {t['step']} steps, {t['train_seconds']:.0f} s of training")
P
