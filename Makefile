# Harmonize: the two commands of the quick start are `make demo` and `make test`.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PYTEST_ARGS ?=

.PHONY: install demo test test-unit lint typecheck bench clean

$(UV):
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-groups
	@touch $@

install: .venv/.synced

demo: install
	$(UV) run --frozen python -m harmonize.demo

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

typecheck: install
	$(UV) run --frozen mypy

test: lint typecheck
	$(UV) run --frozen pytest $(PYTEST_ARGS)

test-unit: install
	$(UV) run --frozen pytest -m "not integration" $(PYTEST_ARGS)

bench: install
	$(UV) run --frozen python bench/accuracy.py
	$(UV) run --frozen python bench/throughput.py

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache demo-workspace
