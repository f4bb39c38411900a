# mention-router: `make demo` runs the demo, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench bench-quick bench-classifier bench-routing clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mention-router demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks.pipeline

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks.pipeline --mentions 20000

bench-classifier: $(STAMP)
	$(BIN)/python -m benchmarks.classifier

bench-routing: $(STAMP)
	$(BIN)/python -m benchmarks.routing

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
