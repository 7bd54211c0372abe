# hookline: `make demo` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
PIP    := $(BIN)/pip --disable-pip-version-check -q
STAMP  := $(VENV)/.installed
# The suite on 2 cores: two workers, loaded by file so emulators start once per worker.
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: help venv dev test-deps demo test lint typecheck importlint unit bench soak fuzz docs clean

help:
	@echo "make demo   create the environment and run the quickstart on a local folder"
	@echo "make test   install test dependencies and emulators, lint, run the whole suite"
	@echo "make unit   the fast suite: no emulators, browser or slow tests (seconds, not minutes)"
	@echo "make bench  run the benchmarks and write bench/results.md"
	@echo "make soak   the full reliability suite"
	@echo "make fuzz   every fuzz suite (marker fuzz), 20x the examples, new ones each run"
	@echo "make docs   build the documentation site (strict)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip setuptools wheel

venv: $(STAMP)
$(STAMP): $(BIN)/python pyproject.toml
	$(PIP) install -e '.[all]'
	@touch $@

# Every extra, and the test tools from the `test` dependency group (pip >= 25.1 reads
# [dependency-groups]; the venv's pip is upgraded above).
dev: $(VENV)/.installed-test
$(VENV)/.installed-test: $(STAMP) pyproject.toml
	$(PIP) install 'pip>=25.1'
	$(PIP) install -e '.[all,mlflow,openlineage]' --group test
	@touch $@

test-deps: dev
	bash tests/emulators/install.sh
	bash tests/terraform/setup_checkov.sh
	bash tests/terraform/setup_provider.sh
	bash tests/dashboard/install_browser.sh
	bash tests/packaging/install_image_tools.sh
	bash tests/core/install_shells.sh

demo: venv
	$(PY) examples/quickstart/demo.py

# import-linter and mypy read the package as installed (the package-dir mapping puts
# core/, plugins/ and adapters/ under one root, which editable installs only emulate).
LINT_TREE := .cache/lint-tree
lint: dev
	$(BIN)/ruff check core plugins adapters functions tests bench examples
	$(BIN)/ruff format --check core plugins adapters functions tests bench examples
	rm -rf $(LINT_TREE) build hookline.egg-info
	$(PIP) install --no-deps --no-compile --target $(LINT_TREE) .
	rm -rf build hookline.egg-info
	mkdir -p $(LINT_TREE)/hookline_entry && touch $(LINT_TREE)/hookline_entry/__init__.py
	for f in functions/*/*.py; do d=$${f#functions/}; cp $$f $(LINT_TREE)/hookline_entry/$${d//\//_}; done
	cd $(LINT_TREE) && PYTHONPATH=. ../../$(BIN)/lint-imports --config ../../pyproject.toml
	cd $(LINT_TREE) && ../../$(BIN)/mypy --config-file ../../pyproject.toml -p hookline

test: test-deps lint
	$(BIN)/pytest $(PYTEST_ARGS) -m "not soak"

# The fast inner loop: everything that needs no emulator, browser, packaging or soak.
unit: dev
	$(BIN)/pytest $(PYTEST_ARGS) -m "not emulator and not browser and not slow and not soak" -q

bench: dev
	$(PY) -m bench

# The whole reliability suite: the fast subset `make test` runs, plus every case marked soak.
soak: test-deps
	$(BIN)/pytest tests/reliability $(PYTEST_ARGS) -p no:cacheprovider

# Every property-based fuzz suite (tests marked `fuzz`: HTTP routes, event parsers...),
# with 20 times the examples and fresh randomness; `make test` runs them at 1x, derandomized in CI.
FUZZ_SCALE ?= 20
fuzz: dev
	HOOKLINE_FUZZ_SCALE=$(FUZZ_SCALE) HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest tests -m fuzz $(PYTEST_ARGS) -p no:cacheprovider

docs: dev
	$(PY) docs/_tooling/gen_reference.py --check
	$(BIN)/mkdocs build --strict

clean:
	rm -rf build dist site .pytest_cache .mypy_cache .ruff_cache test-artifacts
