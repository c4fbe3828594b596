# Two commands on a fresh machine: `make demo` and `make test`. Everything else is setup they share.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo_out
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: setup demo test test-fast bench lint fmt lock schema clean

setup: $(STAMP)

# The lock file pins exact versions; uv installs them in seconds. Re-run when either file changes.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

demo: setup
	$(BIN)/leadsla demo --out $(DEMO_DIR)

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.dbt_bench

lint: setup
	$(BIN)/ruff check leadsla flows tests bench
	$(BIN)/ruff format --check leadsla flows tests bench
	$(BIN)/mypy

fmt: setup
	$(BIN)/ruff format leadsla flows tests bench
	$(BIN)/ruff check --fix leadsla flows tests bench

# Regenerate the JSON Schemas that every rule file points at.
schema: setup
	$(BIN)/leadsla schema --out sla_rules/schema

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) $(DEMO_DIR) bench/out .pytest_cache .mypy_cache .ruff_cache
