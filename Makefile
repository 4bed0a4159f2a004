# The two commands of the README contract: `make run` and `make test`. Both work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000
STAMP := $(VENV)/.installed

.PHONY: install models testdata lint audit test run bench clean

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

test: install models testdata lint audit
	$(VENV)/bin/pytest

# Figures for report.md (not part of `make test`: they take minutes and want a quiet machine).
bench: install models testdata
	$(PY) -m frs testdata dataset --dest out/dataset
	$(PY) -m frs eval out/dataset --out docs/report/eval
	$(PY) -m frs bench --out docs/report/bench.json
	$(PY) -m frs report --eval docs/report/eval/eval.json --bench docs/report/bench.json --out report.md

run: install models
	$(PY) -m frs serve --port $(PORT)

clean:
	rm -rf $(VENV) .cache .frs .mypy_cache .ruff_cache .pytest_cache
