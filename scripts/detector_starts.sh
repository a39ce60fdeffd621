#!/usr/bin/env bash
# Detector starts compared at equal training time (models/detector/mainbody/MODEL_CARD.md, "Starts"):
# PicoDet-LCNet x1.0 at 320 px under one recipe, from random weights, from the layout model's pretrained backbone,
# and from its whole pretrained detector (backbone + neck + head; models/pretrained/MODEL_CARD.md). The three runs
# share the machine at once (1 thread each), each stopping once it has trained BUDGET seconds; then each one's EMA
# weights are exported and measured on every held-out set by `make detector-eval` (docs/DATA.md), one table per
# set in build/starts/<set>.md.
# Needs the training venv and imported weights (make train-env) and the trays (make detector-data detector-heldout).
# BUDGET counts wall-clock training seconds, validation passes included; each run's cosine schedule is 1500 steps.
# Every run resumes from its checkpoint in build/train-detector/starts-<start>, so a rerun continues.
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET=${BUDGET:-2700}
P=build/pretrained/paddle
TRAIN=.venv-train/bin/trayscan
OUT=build/starts
mkdir -p $OUT
declare -A START=([random]="" [backbone]="--init-backbone $P/lcnet_x1_0_layout_cdla.pdparams"
                  [full]="--init $P/picodet_lcnet_x1_0_mainbody_init.pdparams")
pids=()
for start in random backbone full; do
  # shellcheck disable=SC2086
  $TRAIN train detector --data data/mesh-train --extra-data data/mesh-train-w2 --extra-data data/train-varied \
    --val data/mesh-val --val data/det-val-varied --val-images 60 --arch picodet_lcnet_x1_0 --size 320 \
    --steps 1500 --batch-size 8 --seed 0 --threads 1 --checkpoint-every 600 --max-train-s "$BUDGET" --resume \
    --work-dir build/train-detector/starts-$start ${START[$start]} >> $OUT/train-$start.log 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done  # a failed run stops the script here
for start in random backbone full; do
  $TRAIN train detector-export --weights build/train-detector/starts-$start/last.ema.pdparams \
    --out $OUT/$start --arch picodet_lcnet_x1_0 --size 320 --data data/mesh-val > $OUT/export-$start.log 2>&1
done
for start in random backbone full; do
  make -s detector-eval DETECTOR=$OUT/$start DET_EVAL_OUT=$OUT/eval-$start > $OUT/eval-$start.log
done
for set in mesh-holdout mesh-test det-test-shifted det-test; do
  .venv/bin/trayscan train detector-table $OUT/eval-{random,backbone,full}/detector-$set.json --markdown $OUT/$set.md
done
