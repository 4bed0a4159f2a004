# The two commands of the README contract: `make run` and `make test`. Both work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000
STAMP := $(VENV)/.installed
# Image tooling (SAM CLI and its Lambda Runtime Interface Emulator) in a venv of its own: see requirements-image.txt.
IMAGE_VENV := .venv-image
IMAGE_STAMP := $(IMAGE_VENV)/.installed
FRS_PACK ?= open

.PHONY: install models testdata lint audit test run bench clean image image-test

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	# insightface declares the GUI build of OpenCV, which clashes with opencv-python-headless: no deps.
	$(PY) -m pip install --quiet --no-deps insightface==2.1
	# face_recognition declares `dlib`, a source build; requirements-dev.txt pins the prebuilt dlib-bin instead.
	$(PY) -m pip install --quiet --no-deps face-recognition==1.3.0
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

models: install
	$(PY) -m frs models fetch --pack embedded
	$(PY) -m frs models fetch --pack open

testdata: install
	$(PY) -m frs testdata fetch

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Report-only: advisories (or an unreachable vulnerability service) are printed, never fail the build.
audit: install
	-$(VENV)/bin/pip-audit --requirement requirements.txt --no-deps --disable-pip --progress-spinner off

# tests/image needs Docker and a built image: `make image-test` runs it (pyproject: norecursedirs).
test: install models testdata lint audit
	$(VENV)/bin/pytest

$(IMAGE_STAMP): requirements-image.txt
	test -x $(IMAGE_VENV)/bin/python || $(PYTHON) -m venv $(IMAGE_VENV)
	$(IMAGE_VENV)/bin/python -m pip install --quiet -r requirements-image.txt
	touch $(IMAGE_STAMP)

# The Lambda image (frs:$(FRS_PACK)) plus .aws-sam/build/template.yaml, so `sam local` runs it. Starts dockerd if
# none runs (and leaves it running: it is the developer's daemon).
image: $(IMAGE_STAMP)
	scripts/image/docker.sh up
	FRS_PACK=$(FRS_PACK) scripts/image/build.sh

# The built image under AWS's emulator and SAM's local API (tests/image); stops a dockerd it had to start.
image-test: install models testdata $(IMAGE_STAMP)
	FRS_PACK=$(FRS_PACK) scripts/image/image-test.sh

# report.md and the files it is made from (docs/report/), regenerated from nothing: not part of `make test`
# (minutes, and the speed figures want a quiet machine). The pinned test photos always; EVAL_DATASET=DIR (a
# folder per identity, e.g. ../shared/datasets/lfw-dev) adds its open-set and verification figures for the
# default pack `open` with the face_recognition peer, and for `embedded`. README: "Measured accuracy and speed".
EVAL_DATASET ?=
REPORT_DIR := docs/report
EVAL_NAME = $(notdir $(patsubst %/,%,$(EVAL_DATASET)))
DATASET_EVALS = $(if $(EVAL_DATASET),$(REPORT_DIR)/eval-$(EVAL_NAME)-open $(REPORT_DIR)/eval-$(EVAL_NAME)-embedded)
# Issue 20 item 2: both packs in one run, the same draws, each photo's face the one nearest its centre.
DATASET_SIDE = $(if $(EVAL_DATASET),$(REPORT_DIR)/centre-face-$(EVAL_NAME).json)
# Issue 19's operating-point tables: the calibration checked on people it never saw (one photo each, then 1-3
# photos lined up), and the calibration populations compared.
DATASET_CHECKS = $(if $(EVAL_DATASET),$(REPORT_DIR)/check-$(EVAL_NAME)-open-1photo.json $(REPORT_DIR)/check-$(EVAL_NAME)-open.json)
DATASET_METHODS = $(if $(EVAL_DATASET),$(REPORT_DIR)/openset-methods-$(EVAL_NAME)-open.json)
# Issue 20's degraded-copy table (dark, low contrast, grayscale, noise; the illumination step off and on).
DATASET_DEGRADED = $(if $(EVAL_DATASET),$(REPORT_DIR)/degraded-$(EVAL_NAME)-open.json)
# Issue 20's synthetic tight-crop suite (badge crops, face boxes, aligned crops: open, embedded, face_recognition).
DATASET_TIGHT = $(if $(EVAL_DATASET),$(REPORT_DIR)/tight-crops-$(EVAL_NAME).json)
# What `make bench` writes, and so removes first; the hand-run studies beside them in docs/report/ (pose, refine,
# fallback, folds, ...) are cited by the README and kept.
BENCH_OUTPUTS = $(DATASET_EVALS) $(DATASET_SIDE) $(DATASET_CHECKS) $(DATASET_METHODS) $(DATASET_DEGRADED) \
	$(DATASET_TIGHT) $(REPORT_DIR)/eval-pinned-photos-open $(REPORT_DIR)/bench.json
bench: install models testdata
	rm -rf $(BENCH_OUTPUTS) out/pinned-photos
	mkdir -p $(REPORT_DIR)
	$(PY) -m frs testdata dataset --dest out/pinned-photos
ifneq ($(EVAL_DATASET),)
	$(PY) -m frs --pack open eval $(EVAL_DATASET) --peer face_recognition --out $(REPORT_DIR)/eval-$(EVAL_NAME)-open
	$(PY) -m frs --pack embedded eval $(EVAL_DATASET) --out $(REPORT_DIR)/eval-$(EVAL_NAME)-embedded
	$(PY) -m frs --pack open calibrate $(EVAL_DATASET) --check --out $(REPORT_DIR)/check-$(EVAL_NAME)-open-1photo.json
	$(PY) -m frs --pack open calibrate $(EVAL_DATASET) --check --photos 1,2,3 \
		--out $(REPORT_DIR)/check-$(EVAL_NAME)-open.json
	$(PY) scripts/openset_methods.py $(EVAL_DATASET) --pack open --out $(REPORT_DIR)/openset-methods-$(EVAL_NAME)-open.json
	$(PY) scripts/degraded_check.py $(EVAL_DATASET) --pack open --out $(REPORT_DIR)/degraded-$(EVAL_NAME)-open.json
	$(PY) scripts/tight_crop_check.py $(EVAL_DATASET) --people 500 --out $(REPORT_DIR)/tight-crops-$(EVAL_NAME).json
	$(PY) scripts/flip_study.py $(EVAL_DATASET) $(DATASET_SIDE) open embedded open+nomark --face centre
endif
	$(PY) -m frs --pack open eval out/pinned-photos --gallery-sizes all --peer face_recognition \
		--out $(REPORT_DIR)/eval-pinned-photos-open
	$(PY) -m frs --pack open bench --out $(REPORT_DIR)/bench.json
	$(PY) -m frs report $(foreach dir,$(DATASET_EVALS) $(REPORT_DIR)/eval-pinned-photos-open,--eval $(dir)/eval.json) \
		$(foreach file,$(DATASET_SIDE),--eval $(file)) \
		$(foreach file,$(DATASET_CHECKS),--check $(file)) $(foreach file,$(DATASET_METHODS),--methods $(file)) \
		$(foreach file,$(DATASET_DEGRADED),--degraded $(file)) \
		$(foreach file,$(DATASET_TIGHT),--tight-crops $(file)) \
		--bench $(REPORT_DIR)/bench.json --out report.md

run: install models
	$(PY) -m frs serve --port $(PORT)

clean:
	rm -rf $(VENV) $(IMAGE_VENV) .aws-sam .cache .frs .mypy_cache .ruff_cache .pytest_cache
