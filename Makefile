# tcdb: the commands a user and CI run. See README.md.
PYTHON ?= python3.11
VENV   ?= .venv
UV_VERSION := 0.13.9
BIN    := $(VENV)/bin
TCDB   := $(BIN)/tcdb
MODEL    ?= hydride-mlp
SNAPSHOT ?= default-hydrides
PROFILE  ?= quick
ARGS     ?=
SOURCES  ?= $(if $(TCDB_SOURCES),$(TCDB_SOURCES),../shared/data)

.PHONY: install browser openmp test run train predict morph report lint format bench clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: every library is compiled once here. Without it a Python that may not write
# bytecode (PYTHONDONTWRITEBYTECODE, a read-only tree) compiles TensorFlow, pymatgen and the rest
# again in every process: 7 s of each command that loads the structural model.
install: $(BIN)/uv browser openmp  ## create .venv from the lock file (uv.lock), with the dev tools
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --compile-bytecode --python $(BIN)/python

# $(call apt_install,PACKAGE,WHO NEEDS IT): Debian's PACKAGE when run as root, else how to get it.
apt_install = if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $(1); \
	else echo "$(1) is needed by $(2): sudo apt-get install $(1)"; fi

# The report site's browser tests drive Debian's Chromium (never a browser download).
browser:  ## install Debian's chromium for the report's browser tests, where missing (as root)
	@if [ -x /usr/bin/chromium ]; then :; \
	else $(call apt_install,chromium,the report's browser tests); fi

# LightGBM's Linux wheel links the system's OpenMP runtime.
openmp:  ## install the OpenMP runtime (libgomp1) LightGBM needs, where missing (as root)
	@if ldconfig -p | grep -q 'libgomp\.so\.1'; then :; \
	else $(call apt_install,libgomp1,the composition model (LightGBM)); fi

# Two worker processes (pytest-xdist), each test file kept on one so its module fixtures are
# built once; the session's expensive fixtures are built once for both, and the files that run
# longest alone start first (tests/conftest.py) rather than in order of their number of tests.
# --durations: every run ends with its 20 slowest steps, so a test that grew slow shows at once.
TEST_WORKERS ?= 2
test:  ## run the test suite in TEST_WORKERS processes (2; 0: in this one); lists the 20 slowest
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=20

run:  ## the main job: ingest, curate, freeze, train, screen, predict, morph and report, then a table of each step's time and figure
	$(TCDB) --sources $(SOURCES) pipeline --profile $(PROFILE)

train:  ## train MODEL (hydride-mlp | composition | cvcnn) on SNAPSHOT, PROFILE quick|paper, ARGS the model's own options
	$(TCDB) train $(MODEL) --snapshot $(SNAPSHOT) --profile $(PROFILE) $(ARGS)

predict:  ## the reference and literature structures with the default structure model
	$(TCDB) predict $(SOURCES)/reference/structures $(SOURCES)/literature/structures

morph:  ## every morph family with the default structure model, the latest network beside it (PROFILE paper: 16 scales per pair)
	$(TCDB) morph run --all --profile $(PROFILE)

report:  ## the papers' tables and figures beside ours: the site reports/out/index.html
	$(TCDB) report

lint:  ## ruff (lint and formatting) and import-linter (the layers of docs/architecture.md)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format:  ## ruff: fix imports and format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench:  ## every benchmark under benchmarks/ (see docs/benchmarks.md)
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:  ## remove caches (the database and snapshots in data/ are kept)
	rm -rf .pytest_cache .ruff_cache .benchmarks
