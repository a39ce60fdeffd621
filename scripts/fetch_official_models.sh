#!/usr/bin/env bash
# Downloads the official PP-ShiTu v2 inference models (for machines with internet; it cannot run offline):
#   mainbody detector  picodet_PPLCNet_x2_5_mainbody_lite_v1.0_infer
#   feature extractor  general_PPLCNetV2_base_pretrained_v1.0_infer
# URLs as documented in PaddleClas (docs/zh_CN/models/PP-ShiTu/README.md, deploy/shell/...).
# Then writes each model's infer_cfg.yml from configs/official-ppshitu.yaml and, when paddle2onnx is installed
# (pip install 'trayscan[paddle]'), adds inference.onnx for the default ONNX Runtime engine.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=models/official  # the paths configs/official-ppshitu.yaml points at
BASE=https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/rec/models/inference
URLS=(
  "$BASE/picodet_PPLCNet_x2_5_mainbody_lite_v1.0_infer.tar"
  "$BASE/PP-ShiTuV2/general_PPLCNetV2_base_pretrained_v1.0_infer.tar"
)
TRAYSCAN=${TRAYSCAN:-.venv/bin/trayscan}
mkdir -p "$DEST"
for url in "${URLS[@]}"; do
  name=$(basename "$url" .tar)
  if [ -d "$DEST/$name" ]; then echo "have $DEST/$name"; continue; fi
  echo "downloading $url"
  curl -fL --retry 3 -o "$DEST/$name.tar" "$url"
  tar -xf "$DEST/$name.tar" -C "$DEST"
  rm "$DEST/$name.tar"
done
"$TRAYSCAN" models write-cfg configs/official-ppshitu.yaml
for name in picodet_PPLCNet_x2_5_mainbody_lite_v1.0_infer general_PPLCNetV2_base_pretrained_v1.0_infer; do
  if [ -f "$DEST/$name/inference.onnx" ]; then continue; fi
  "$TRAYSCAN" models convert "$DEST/$name" "$DEST/$name" \
    || echo "no ONNX for $name (install trayscan[paddle]); use engine: paddle in the config"
done
echo "done: TRAYSCAN config configs/official-ppshitu.yaml points at $DEST"
