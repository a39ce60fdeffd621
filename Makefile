# Two set-up commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PP-OCRv4 mobile models as ONNX inside the wheel, for the text check (pyproject.toml, extra `ocr`).
RAPIDOCR := rapidocr-onnxruntime==1.4.4
# The mesh renderer's software OpenGL, fonts and photographic textures (docs/DATA.md).
MESH_PACKAGES := libegl1 libegl-mesa0 libgl1-mesa-dri fonts-wqy-zenhei fonts-arphic-ukai fonts-dejavu-core \
	fonts-liberation2 fonts-freefont-ttf fonts-comic-neue fonts-cantarell fonts-lobster fonts-dancingscript \
	fonts-open-sans fonts-ebgaramond fonts-urw-base35 mate-backgrounds colobot-common-textures
APT_PACKAGES := fonts-noto-cjk openclipart-png chromium postgresql $(MESH_PACKAGES)

.PHONY: run test lint unit system-deps venv demo train-env clean bench bench-mixed bench-gallery bench-gallery-1m feedback-eval eval calibrate box-scorer heldout heldout-eval fuzz detector-data detector-heldout detector-starts detector-eval embedder-data embedder-eval embedder-starts calibrate-size-check

# The development flag lets the service start with configs/default.yaml's placeholder admin token.
run: system-deps venv
	@echo "make run: development admin token 'changeme' (TRAYSCAN_ALLOW_PLACEHOLDER_TOKEN=1); set TRAYSCAN_ADMIN_TOKEN otherwise"
	TRAYSCAN_ALLOW_PLACEHOLDER_TOKEN=1 $(BIN)/trayscan serve

test: system-deps venv lint
	$(BIN)/pytest -q

# schemathesis against the API with a large budget: 2,000 cases a route and 200 stateful sequences of up to 50 calls
# (make test runs the same tests with 15 cases a route and 15 sequences of 10).
fuzz: venv
	TRAYSCAN_FUZZ_EXAMPLES=2000 TRAYSCAN_FUZZ_SEQUENCES=200 TRAYSCAN_FUZZ_STEPS=50 $(BIN)/pytest -q tests/service/api/test_fuzz.py

lint: venv
	$(BIN)/ruff check src tests
	$(BIN)/mypy

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,paddle,postgres,ocr]'
	$(BIN)/pip install -q --no-deps $(RAPIDOCR)
	touch $(STAMP)

# nginx: the load balancer in front of two replicas in tests/ops/test_replicas.py.
APT_PACKAGES += nginx

# Debian packages the project uses: fonts for Chinese/Latin packaging text, clip art for product designs,
# chromium for the kiosk and staff page tests.
system-deps:
	@bash scripts/install_system_deps.sh $(APT_PACKAGES)

demo: system-deps venv
	$(BIN)/trayscan synth --out data/demo --seed 1 --trays 20 --preview data/demo/preview.png

# Speed and memory figures (bench/RESULTS.md): pipeline on both engines, HTTP, gallery at 10k and 100k vectors.
# Takes several minutes; run it on an otherwise idle machine.
bench: system-deps venv
	$(BIN)/trayscan bench all --sizes 10000,100000 --results bench/RESULTS.md --json build/bench-results.json

# Mixed HTTP load (bench/RESULTS-mixed-http.md): 8 checkout clients and 1 admin client enrolling, repricing and
# deleting for 60 s; a 10-family demo world keeps the server's first start short.
bench-mixed: system-deps venv
	TRAYSCAN_DEMO__FAMILIES=10 $(BIN)/trayscan bench http --mixed-seconds 60 --clients 1 --requests-per-client 3 \
		--vectors 0 --state-dir build/bench-mixed --results bench/RESULTS-mixed-http.md --json build/bench-mixed.json

# The gallery at chain scale (docs/SCALING.md), at the service's efConstruction 200: 200k vectors
# (bench/RESULTS-gallery-200k.md) and 1M (bench/RESULTS-gallery-1m.md; its build takes tens of minutes on 2 idle
# cores). Built indexes are cached in build/bench-gallery-cache, so efSearch can be swept again without a rebuild.
bench-gallery: venv
	$(BIN)/trayscan bench gallery --sizes 200000 --ef-construction 200 --ef-search 16,24,32,48,64 \
		--results bench/RESULTS-gallery-200k.md --json build/bench-gallery-200k.json
bench-gallery-1m: venv
	$(BIN)/trayscan bench gallery --sizes 1000000 --ef-construction 200 --ef-search 16,24,32,48,64 \
		--results bench/RESULTS-gallery-1m.md --json build/bench-gallery-1m.json

# Checkout accuracy on 500 held-out trays of novel SKUs (bench/EVAL-*.md): enrolled through the admin API of a
# server of its own, then in-process beside the PP-ShiTu way on the same models and trays.
EVAL_DATA := data/eval-novel
eval: system-deps venv
	test -f $(EVAL_DATA)/annotations.json || $(BIN)/trayscan synth --out $(EVAL_DATA) --seed 1 --families 60 \
		--trays 500 --tray-skus novel --tray-seed 5001 --enrol-per-sku 5
	$(BIN)/trayscan eval --annotations $(EVAL_DATA)/annotations.json --images $(EVAL_DATA) --split novel \
		--serve build/eval-server --out build/eval-novel-http.json --markdown bench/EVAL-novel-http.md --quiet
	$(BIN)/trayscan eval --annotations $(EVAL_DATA)/annotations.json --images $(EVAL_DATA) --split novel \
		--pipeline both --out build/eval-novel-both.json --markdown bench/EVAL-novel-both.md --quiet

# How the pipeline thresholds in src/trayscan/config.py were chosen: every combination on 150 validation trays of
# novel SKUs (never the test trays), for the threshold rule -> bench/CALIBRATION-val.md and for the box scorer ->
# bench/CALIBRATION-val-box-scorer.md (the scorer was trained on these trays: its rows are not held-out figures).
VAL_DATA := data/emb-val-novel
$(VAL_DATA)/annotations.json: | venv
	$(BIN)/trayscan synth --out $(VAL_DATA) --seed 1 --families 60 --trays 150 --tray-skus novel --tray-seed 201

# 100 validation trays of train SKUs (other tray seeds than the tests' 50 trays: 4242).
TRAIN_VAL_DATA := data/e2e-val
$(TRAIN_VAL_DATA)/annotations.json: | venv
	$(BIN)/trayscan synth --out $(TRAIN_VAL_DATA) --seed 1 --families 60 --trays 100 --tray-skus train \
		--tray-seed 777 --enrol-per-sku 3

calibrate: system-deps venv $(VAL_DATA)/annotations.json
	$(BIN)/trayscan eval --annotations $(VAL_DATA)/annotations.json --images $(VAL_DATA) --split novel --quiet \
		--sweep similarity_threshold=0.65,0.7,0.75 --sweep detection_threshold=0.4,0.5,0.6 \
		--sweep weak_detection_threshold=0.3,1.0 --sweep weak_detection_similarity=0.75,0.8,0.85 --sweep box_scorer=0 \
		--out build/calibration-val.json --markdown bench/CALIBRATION-val.md
	$(BIN)/trayscan eval --annotations $(VAL_DATA)/annotations.json --images $(VAL_DATA) --split novel --quiet \
		--sweep similarity_threshold=0.65,0.7,0.75 --sweep box_score_threshold=0.35,0.4,0.45,0.5,0.55 \
		--out build/calibration-val-box-scorer.json --markdown bench/CALIBRATION-val-box-scorer.md

# Validation trays of the mesh renderer (docs/DATA.md): novel SKUs of another mesh world (seed 3), tray seeds of
# the validation range 8000-8999. The embedder's checkpoints are chosen on it.
MESH_VAL := data/mesh-val
$(MESH_VAL)/annotations.json: | venv
	$(BIN)/trayscan synth --renderer mesh --out $(MESH_VAL) --seed 3 --families 30 --trays 60 --tray-skus novel \
		--tray-seed 8001 --enrol-per-sku 3

# Validation trays for the size check (docs/CALIBRATION.md): every SKU of a mesh world no model trains on (seed 6),
# five enrolment shots a product, a quarter of them by the kiosk camera.
MESH_VAL_KIOSK := data/mesh-val-kiosk
$(MESH_VAL_KIOSK)/annotations.json: | venv
	$(BIN)/trayscan synth --renderer mesh --out $(MESH_VAL_KIOSK) --seed 6 --families 60 --trays 150 --tray-skus all \
		--tray-seed 8101 --enrol-per-sku 5

# The size check's weight and spread swept on those trays' ground-truth crops (recall@1, 4 views).
calibrate-size-check: $(MESH_VAL_KIOSK)/annotations.json
	for weight in 0.02 0.05 0.1 0.2 0.4; do for spread in 0.1 0.2 0.3; do \
		$(BIN)/trayscan train embedder-eval --data $(MESH_VAL_KIOSK) --split all --embed-rotations 4 \
			--speed-engines '' --size-check --size-weight $$weight --size-spread $$spread 2>/dev/null \
			| $(BIN)/python -c "import json, sys; d = json.load(sys.stdin); print('weight $$weight spread $$spread:', \
				'recall@1', round(d['all']['recall_at_1'], 4), '->', round(d['all_size_check']['recall_at_1'], 4))"; \
	done; done

# The box scorer shipped in models/box-scorer/ (pipeline/box_scorer.py), fitted for the shipped detector and
# embedder on validation trays of both renderers: the two sprite validation worlds and the mesh validation trays.
box-scorer: system-deps venv $(VAL_DATA)/annotations.json $(TRAIN_VAL_DATA)/annotations.json $(MESH_VAL)/annotations.json
	$(BIN)/trayscan train box-scorer --world $(VAL_DATA):novel --world $(TRAIN_VAL_DATA):train \
		--world $(MESH_VAL):novel --out models/box-scorer/mainbody-lcnet --quiet

# Held-out sets of the mesh renderer (docs/DATA.md): novel SKUs of the mesh world on trays of its standard style
# and of its holdout style (surfaces, lights and lens strengths that no training style draws). Measuring only.
MESH_TEST := data/mesh-test
MESH_HOLDOUT := data/mesh-holdout
$(MESH_TEST)/annotations.json: | venv
	$(BIN)/trayscan synth --renderer mesh --out $(MESH_TEST) --seed 1 --families 60 --trays 200 --tray-skus novel \
		--tray-seed 6001 --enrol-per-sku 5
$(MESH_HOLDOUT)/annotations.json: | venv
	$(BIN)/trayscan synth --renderer mesh --style holdout --out $(MESH_HOLDOUT) --seed 1 --families 60 --trays 200 \
		--tray-skus novel --tray-seed 7001 --enrol-per-sku 5

heldout: system-deps venv $(MESH_TEST)/annotations.json $(MESH_HOLDOUT)/annotations.json

# The shipped models on each mesh held-out set: detector AP50 and recall, embedder recall@1 on novel SKUs (4 views,
# as the service embeds), checkout in-process (bench/EVAL-mesh-*.md). JSON figures in build/heldout/.
heldout-eval: heldout
	mkdir -p build/heldout
	for set in $(MESH_TEST) $(MESH_HOLDOUT); do \
		name=$$(basename $$set); \
		$(BIN)/trayscan train detector-eval --model models/detector/mainbody --data $$set --engines onnxruntime \
			--speed-runs 0 --json build/heldout/$$name-detector.json || exit 1; \
		$(BIN)/trayscan train embedder-eval --data $$set --embed-rotations 4 --speed-engines '' \
			--json build/heldout/$$name-embedder.json || exit 1; \
		$(BIN)/trayscan eval --annotations $$set/annotations.json --images $$set --split novel --quiet \
			--out build/heldout/$$name-eval.json --markdown bench/EVAL-$$name.md || exit 1; \
	done

# The kiosk's feedback loop on the held-out mesh trays (docs/FEEDBACK.md): a simulated clerk confirms the doubtful
# items of the first 50 and 100 trays; the last 100 trays are scored after each (0: without feedback).
feedback-eval: heldout
	$(BIN)/trayscan eval --annotations $(MESH_TEST)/annotations.json --images $(MESH_TEST) --split novel \
		--feedback 0,50,100 --quiet --out build/feedback-mesh-test.json --markdown bench/EVAL-feedback-mesh-test.md

# The embedder's training crops (models/embedder/lcnet/MODEL_CARD.md, "Data"): mesh worlds 1, 2, 4 and 5 and the
# sprite renderer's varied trays; validation on mesh world 3.
EMB_TRAIN_SETS := data/mesh-train data/mesh-train-w2 data/mesh-train-w4 data/mesh-train-w5 data/train-varied
data/mesh-train-w4/annotations.json data/mesh-train-w5/annotations.json: data/mesh-train-w%/annotations.json: | venv
	$(BIN)/trayscan synth --renderer mesh --out data/mesh-train-w$* --seed $* --families 60 --trays 600 \
		--tray-skus all --tray-seed 10000 --enrol-per-sku 5
embedder-data: system-deps venv $(addsuffix /annotations.json,$(EMB_TRAIN_SETS)) $(MESH_VAL)/annotations.json

# The shipped embedder on every held-out set (each renderer's test split and held-out style): recall@1 with the
# service's 4 views and after its print and size checks -> models/embedder/lcnet/eval/<set>.json.
EMB_HELDOUT := data/emb-test-novel data/emb-test-novel-shifted $(MESH_TEST) $(MESH_HOLDOUT)
embedder-eval: heldout
	mkdir -p models/embedder/lcnet/eval
	for set in $(EMB_HELDOUT); do \
		$(BIN)/trayscan train embedder-eval --data $$set --embed-rotations 4 --speed-engines '' --sibling-check \
			--size-check --centre-check --json models/embedder/lcnet/eval/$$(basename $$set).json > /dev/null || exit 1; \
	done

# The embedder's starts at equal training time (BUDGET minutes each, default 25): x1.0 random against x1.0 from
# PULC's pretrained backbone, then recall@1 on the mesh validation and held-out sets (scripts/embedder_starts.sh).
PULC_BACKBONE := build/pretrained/paddle/pplcnet_x1_0_pulc_orientation_rec_backbone.pdparams
$(PULC_BACKBONE):
	bash scripts/make_train_env.sh
embedder-starts: embedder-data heldout $(PULC_BACKBONE)
	bash scripts/embedder_starts.sh

# The detector's training and validation trays (models/detector/mainbody/MODEL_CARD.md, "Data"): both renderers'
# standard styles (mesh worlds 1 and 2, the sprite renderer's varied surfaces); validation trays of both.
DET_TRAIN_SETS := data/mesh-train data/mesh-train-w2 data/train-varied
data/mesh-train/annotations.json: | venv
	$(BIN)/trayscan synth --renderer mesh --out data/mesh-train --seed 1 --families 60 --trays 1000 --tray-skus train \
		--tray-seed 10000 --enrol-per-sku 3
data/mesh-train-w2/annotations.json: | venv
	$(BIN)/trayscan synth --renderer mesh --out data/mesh-train-w2 --seed 2 --families 60 --trays 600 --tray-skus all \
		--tray-seed 10000 --enrol-per-sku 3
data/train-varied/annotations.json: | venv
	$(BIN)/trayscan synth --out data/train-varied --seed 6 --families 200 --trays 2000 --enrol-per-sku 0 --tray-skus all \
		--style varied
data/det-val-varied/annotations.json: | venv
	$(BIN)/trayscan synth --out data/det-val-varied --seed 1 --families 60 --trays 150 --enrol-per-sku 0 --tray-skus all \
		--tray-seed 1501 --style varied
# The sprite renderer's held-out detector sets (docs/DATA.md).
data/det-test/annotations.json: | venv
	$(BIN)/trayscan synth --out data/det-test --seed 1 --families 60 --trays 500 --tray-skus all --enrol-per-sku 0 \
		--tray-seed 2001
data/det-test-shifted/annotations.json: | venv
	$(BIN)/trayscan synth --out data/det-test-shifted --seed 1 --families 60 --trays 500 --tray-skus all \
		--enrol-per-sku 0 --tray-seed 3001 --style shifted
detector-data: system-deps venv $(addsuffix /annotations.json,$(DET_TRAIN_SETS) data/det-val-varied) \
	$(MESH_VAL)/annotations.json
DET_HELDOUT := $(MESH_TEST) $(MESH_HOLDOUT) data/det-test data/det-test-shifted
detector-heldout: heldout data/det-test/annotations.json data/det-test-shifted/annotations.json

# The detector's starts (random, pretrained backbone, whole pretrained detector) at equal training time, measured
# on every held-out set (build/starts/*.md; scripts/detector_starts.sh). Hours of CPU: BUDGET seconds a start.
PRETRAINED_INIT := build/pretrained/paddle/picodet_lcnet_x1_0_mainbody_init.pdparams
$(PRETRAINED_INIT):
	bash scripts/make_train_env.sh
detector-starts: detector-data detector-heldout $(PRETRAINED_INIT)
	bash scripts/detector_starts.sh

# The shipped detector (or DETECTOR=dir) on every held-out set: $(DET_EVAL_OUT)/detector-*.json and detector.md.
DETECTOR ?= models/detector/mainbody
DET_EVAL_OUT ?= build/heldout
detector-eval: detector-heldout
	mkdir -p $(DET_EVAL_OUT)
	for set in $(DET_HELDOUT); do \
		$(BIN)/trayscan train detector-eval --model $(DETECTOR) --data $$set --engines onnxruntime \
			--speed-runs 0 --json $(DET_EVAL_OUT)/detector-$$(basename $$set).json || exit 1; \
	done
	$(BIN)/trayscan train detector-table $(foreach s,$(DET_HELDOUT),$(DET_EVAL_OUT)/detector-$(notdir $(s)).json) \
		--markdown $(DET_EVAL_OUT)/detector.md

# Training tools in their own venv: paddleclas / paddledet pin numpy 1.23 and opencv 4.5 (shared/NOTES.md).
train-env:
	bash scripts/make_train_env.sh

clean:
	rm -rf $(VENV) .venv-train build *.egg-info
