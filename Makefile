# The two commands of the README contract: `make run` and `make test`. Both work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000
STAMP := $(VENV)/.installed

.PHONY: install models testdata lint test run bench eval report clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	# insightface declares the GUI build of OpenCV, which clashes with opencv-python-headless: no deps.
	$(PY) -m pip install --quiet --no-deps insightface==2.1
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

models: install
	$(PY) -m frs models fetch --pack embedded

testdata: install
	$(PY) -m frs testdata fetch

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: install models testdata lint
	$(VENV)/bin/pytest

run: install models
	$(PY) -m frs serve --port $(PORT)

clean:
	rm -rf $(VENV) .cache .frs .mypy_cache .ruff_cache .pytest_cache
