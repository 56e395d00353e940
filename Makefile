# tcdb: the commands a user and CI run. See README.md.
PYTHON ?= python3.11
VENV   ?= .venv
UV_VERSION := 0.13.9
BIN    := $(VENV)/bin
TCDB   := $(BIN)/tcdb

.PHONY: install test run lint format bench clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(BIN)/uv  ## create .venv from the lock file (uv.lock), with the dev tools
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --python $(BIN)/python

test:  ## run the test suite (real DuckDB files in temporary folders)
	$(BIN)/pytest

run:  ## the main job on the default sources: create and migrate the database
	$(TCDB) db upgrade
	$(TCDB) db status

lint:  ## ruff: lint and formatting check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:  ## ruff: fix imports and format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench:  ## benchmarks under benchmarks/ (figures go in the issue notes)
	$(BIN)/python benchmarks/startup.py

clean:  ## remove caches (the database and snapshots in data/ are kept)
	rm -rf .pytest_cache .ruff_cache .benchmarks
