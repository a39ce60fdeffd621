#!/bin/bash
# The embedder's losses at equal training time (models/embedder/lcnet/MODEL_CARD.md): ArcMargin alone with
# class-balanced batches against ArcMargin plus the triplet term with family batches, both from the commit 0e5bce9
# weights (INIT, e.g. `git show 20f9b5b:models/checkpoints/embedder-lcnet/last.pdparams > INIT`), both runs at once
# on 1 thread each, 15 minutes of training each, on the mesh worlds' crops; then recall@1 on the mesh sets.
set -uo pipefail
INIT=${INIT:?the commit 0e5bce9 weights}
mkdir -p build/emb-loss
run() {
  local name=$1; shift
  OMP_NUM_THREADS=1 .venv-train/bin/trayscan train embedder --data data/mesh-train --extra-data data/mesh-train-w2 \
    --extra-data data/mesh-train-w4 --extra-data data/mesh-train-w5 \
    --out build/emb-loss/$name --ckpt-dir build/emb-loss/ckpt-$name --init "$INIT" \
    --scale 0.5 --size 160 --batch 64 --lr 2e-3 --warmup-steps 100 --margin-ramp-steps 300 --aug-ramp-steps 0 \
    --minutes 15 --seed 0 --threads 1 --workers 0 "$@" > build/emb-loss/$name.log 2>&1
}
run arcmargin &
run family-triplet --family-batches --triplet-weight 1.0 &
wait
for name in arcmargin family-triplet; do for set in mesh-val mesh-test mesh-holdout; do
  .venv/bin/trayscan train embedder-eval --model build/emb-loss/$name --data data/$set --embed-rotations 4 --speed-engines '' --json build/emb-loss/$name-$set.json > /dev/null 2>&1
  python3 -c "
import json; d=json.load(open('build/emb-loss/$name-$set.json'))['all']; t=json.load(open('build/emb-loss/$name/training.json'))
print('$name $set', round(d['recall_at_1'],4), round(d['recall_at_5_skus'],4), t['step'], round(t['train_seconds']))"
done; done
echo done
