# Two commands on a fresh machine: `make demo` and `make test`. Everything else is setup they share.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo_out
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: setup demo test test-fast bench dbt-unit lint fmt lock schema clean

setup: $(STAMP)

# The lock file pins exact versions; uv installs them in seconds. Re-run when either file changes.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

demo: setup
	$(BIN)/leadsla demo --out $(DEMO_DIR)

test: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

# Everything but the demo week (with its dbt builds) and Prefect servers: for the edit loop.
test-fast: setup
	$(BIN)/python -m pytest -q -n 2 -m "not slow and not demo_week"

bench: setup
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.dbt_bench
	$(BIN)/python -m bench.replay_bench
	$(BIN)/python -m bench.page

# dbt's unit tests (they check the project's SQL, not the day's data), for development (the
# review's builds leave them out; `make test` runs them too). They read only their fixtures,
# but dbt takes their inputs' column types from the built warehouse: the demo's, made by
# `make demo` when it is missing or older than a file of the dbt project (a warehouse built by
# older SQL lacks the new models and columns, and a unit test reading them fails to compile).
DEMO_WH = $(abspath $(DEMO_DIR))/warehouse
DBT := leadsla/dbt_project
DBT_FILES := $(shell find $(DBT) -path $(DBT)/target -prune -o -path $(DBT)/logs \
	-prune -o \( -name '*.sql' -o -name '*.yml' \) -print)
$(DEMO_WH)/warehouse.duckdb: $(DBT_FILES) | setup
	$(MAKE) demo
dbt-unit: setup $(DEMO_WH)/warehouse.duckdb
	LEADSLA_WAREHOUSE=$(DEMO_WH)/warehouse.duckdb $(BIN)/dbt test \
		--select resource_type:unit_test \
		--project-dir $(DBT) --profiles-dir $(DBT) \
		--target-path $(DEMO_WH)/warehouse_dbt/target --log-path $(DEMO_WH)/warehouse_dbt/logs

lint: setup
	$(BIN)/uv pip check --python $(BIN)/python   # every installed package's requirements met
	$(BIN)/ruff check leadsla leadsla_demo flows tests bench
	$(BIN)/ruff format --check leadsla leadsla_demo flows tests bench
	$(BIN)/mypy

fmt: setup
	$(BIN)/ruff format leadsla leadsla_demo flows tests bench
	$(BIN)/ruff check --fix leadsla leadsla_demo flows tests bench

# Regenerate the JSON Schemas that every rule file points at.
schema: setup
	$(BIN)/leadsla schema --out sla_rules/schema

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) $(DEMO_DIR) bench/out .pytest_cache .mypy_cache .ruff_cache
