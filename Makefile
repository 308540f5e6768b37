# Two commands for a newcomer: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: demo test lint venv clean bundle

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## Set up, create the SQLite database, load the demo county and serve http://$(HOST):$(PORT)
demo: $(STAMP)
	$(BIN)/xinfang demo run --host $(HOST) --port $(PORT)

## Set up and run the whole test suite (PostgreSQL lane when XINFANG_TEST_DATABASE_URL answers)
test: $(STAMP)
	bash scripts/ensure_chromium.sh
	$(BIN)/python -m pytest

## Build the offline installation bundle (on a connected machine) into build/
bundle: $(STAMP)
	scripts/build_bundle.sh build

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

clean:
	rm -rf $(VENV) *.egg-info src/*.egg-info .pytest_cache build
