# Harmonize: the two commands of the quick start are `make demo` and `make test`.
SHELL := /bin/bash
# uv from PATH, else as a Python module (installed with pip on first use)
UV ?= $(or $(shell command -v uv 2>/dev/null),python3 -m uv)
PYTEST_ARGS ?= --durations=30

.PHONY: install system demo test test-unit fuzz lint typecheck bench clean

.venv/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --frozen --all-groups --all-extras --compile-bytecode
	@touch $@

install: .venv/.synced

# Debian's PostgreSQL server and Chromium for the integration tests (only when missing)
system:
	infra/install-system.sh

demo: install
	$(UV) run --frozen python -m harmonize.demo

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

typecheck: install
	$(UV) run --frozen mypy

test: system lint typecheck
	$(UV) run --frozen pytest $(PYTEST_ARGS)

test-unit: install
	$(UV) run --frozen pytest -m "not integration" $(PYTEST_ARGS)

# the fuzz harnesses of tests/fuzz, each HARMONIZE_FUZZ_SCALE times its `make test` budget
HARMONIZE_FUZZ_SCALE ?= 50
fuzz: install
	HARMONIZE_FUZZ_SCALE=$(HARMONIZE_FUZZ_SCALE) $(UV) run --frozen pytest tests/fuzz \
		--timeout=0 $(PYTEST_ARGS)

bench: install
	$(UV) run --frozen python bench/accuracy.py
	$(UV) run --frozen python bench/throughput.py

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache demo-workspace
