# Waybill: `make run` serves the portal with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench-ingest bench-webhooks bench-carrier-events bench-selection bench-planning setup clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# A SECRET_KEY of this checkout's own, made once; settings refuse to start without one.
.env:
	$(PYTHON) -c "import secrets; print('SECRET_KEY=' + secrets.token_urlsafe(50))" > .env

setup: $(STAMP) .env

run: setup
	WEBHOOK_ALLOW_PRIVATE_TARGETS=true $(PY) manage.py run_portal

test: setup
	WEBHOOK_ALLOW_PRIVATE_TARGETS=true $(PY) -m pytest -n auto --dist loadfile $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench-ingest: setup
	$(PY) bench/ingest.py

bench-webhooks: setup
	$(PY) bench/webhooks.py

bench-carrier-events: setup
	$(PY) bench/carrier_events.py

bench-selection: setup
	$(PY) bench/selection.py

bench-planning: setup
	$(PY) bench/planning.py --instances ../shared/bench-data/solomon --time-limit 10
	$(PY) bench/planning.py --synthetic 1000

clean:
	rm -rf $(VENV) var
