# Waybill: `make run` serves the portal with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench-ingest bench-selection bench-planning setup clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	WEBHOOK_ALLOW_PRIVATE_TARGETS=true $(PY) manage.py run_portal

test: $(STAMP)
	WEBHOOK_ALLOW_PRIVATE_TARGETS=true $(PY) -m pytest -n auto --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench-ingest: $(STAMP)
	$(PY) bench/ingest.py

bench-selection: $(STAMP)
	$(PY) bench/selection.py

bench-planning: $(STAMP)
	$(PY) bench/planning.py --instances ../shared/bench-data/solomon --time-limit 10
	$(PY) bench/planning.py --synthetic 1000

clean:
	rm -rf $(VENV) var
