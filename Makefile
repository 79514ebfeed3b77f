# `make demo` and `make test` are the two commands in the README.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED ?= ../shared/data
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install test check lint format demo corpus bench clean

# torch==2.13.0 first: its CPU wheel lies on this disk; without it pip pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check review tests benchmarks scripts
	$(BIN)/ruff format --check review tests benchmarks scripts
	$(BIN)/mypy review

format: install
	$(BIN)/ruff format review tests benchmarks scripts
	$(BIN)/ruff check --fix review tests benchmarks scripts

test: lint
	$(BIN)/pytest -q -p no:cacheprovider

check: test

# Rebuild corpora/ from ../shared/data (the result is committed; the demo does not need ../shared).
corpus: install
	$(BIN)/python scripts/build_corpus.py --shared $(SHARED)

demo: install
	REVIEW=$(BIN)/review sh scripts/demo.sh

bench: install
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) exports/demo .pytest_cache .mypy_cache .ruff_cache
