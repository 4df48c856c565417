# CAN CRM. `make help` lists the targets.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
RUN_PORT ?= 5000
export POSTCODE_INDEX ?= $(CURDIR)/instance/postcodes.npz
DEMO_BOROUGHS := E09000013,E09000020,E09000033,E09000027,E09000009,E09000017

.PHONY: help install preflight run test test-unit test-integration test-e2e lint bench clean translations

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

# GOV.UK Frontend with Arial instead of GDS Transport (see the .scss), compiled from the npm package.
can_crm/static/govuk.css: can_crm/static/govuk.scss node_modules/.installed
	node_modules/.bin/sass --no-source-map --style=compressed --load-path=node_modules $< $@

instance/secret_key:
	mkdir -p instance
	python3 -c "import secrets; print(secrets.token_urlsafe(48))" > $@
	chmod 600 $@

instance/postcodes.npz: $(VENV)/.installed
	mkdir -p instance
	$(PY) -m geo make-onspd --out instance/onspd_demo.csv --per-borough 400 --seed 2020 --boroughs $(DEMO_BOROUGHS)
	$(PY) -m geo import-onspd instance/onspd_demo.csv --out $@

install: $(VENV)/.installed node_modules/.installed can_crm/static/govuk.css instance/secret_key instance/postcodes.npz translations ## Install what is missing (venv, npm assets, secret, postcodes, catalogues)

translations: $(VENV)/.installed ## Compile the language catalogues (machine translations are fuzzy: used, and marked for review)
	$(VENV)/bin/pybabel compile --use-fuzzy --statistics -d can_crm/translations

# Development reads instance/secret_key itself when SECRET_KEY is unset, as every README command does.
run: install ## Install, migrate, seed demo data and serve on http://127.0.0.1:5000 (SQLite, in-process jobs)
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(FLASK) run --host 127.0.0.1 --port $(RUN_PORT)

preflight: ## Check PostgreSQL, Redis and Chromium (as root: install and start them; else print the command)
	scripts/preflight.sh

# Preflight first, so a missing service is one clear line rather than a failure deep inside pytest.
test: preflight install lint ## Lint, then the whole suite: unit, integration (PostgreSQL, Redis, rq workers), browser (Chromium)
	$(PY) -m pytest -p no:cacheprovider -n 2 --dist loadgroup

test-unit: install ## Unit tests only (no database)
	$(PY) -m pytest tests/unit -n 2

# .pre-commit-config.yaml runs the same four checks; keep the two lists in step.
lint: install ## ruff check, ruff format --check, mypy strict on matching/ and geo/, import contracts
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: install ## Benchmarks (print their figures)
	$(PY) scripts/bench_web.py
	$(PY) -m matching bench --requests 10000 --volunteers 5000
	$(PY) -m geo bench --points 100000
	$(PY) scripts/bench_maps.py
	$(PY) scripts/bench_tracing.py --compare
	$(PY) scripts/bench_shielded_import.py
	$(PY) scripts/bench_handoff.py

clean: ## Remove the venv, node_modules and the instance folder
	rm -rf $(VENV) node_modules instance
