# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEMO_PASSWORD ?= sdif-demo-2019
export DEMO_PASSWORD

.PHONY: run test install messages lint format migrations-check serve check clean bench loadtest screenshots oidc-provider

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## Compile the translation catalogues (locale/*/LC_MESSAGES/django.mo; built, not committed).
messages: install
	@command -v msgfmt >/dev/null || { echo "msgfmt not found: install gettext (apt-get install gettext) to compile the Spanish catalogue"; exit 1; }
	SECRET_KEY=compilemessages $(BIN)/python manage.py compilemessages --ignore=$(VENV)

## Run the app on the embedded SQLite default with the SDIF plan and demo users.
run: messages
	DEBUG=1 $(BIN)/python manage.py migrate --no-input
	DEBUG=1 $(BIN)/python manage.py import_plan plans/sdif-fy19.yaml --if-absent
	DEBUG=1 $(BIN)/python manage.py create_demo_users
	@echo ""
	@echo "  SDIF Tracker: http://127.0.0.1:$(PORT)/"
	@echo "  Demo users admin, leader, deputy, contributor, reviewer, outsider, treasury-admin, pio, examiner"
	@echo "  Password (development only): $(DEMO_PASSWORD)"
	@echo "  A task worker runs beside the server (emails, PDFs); Ctrl-C stops both."
	@echo ""
	@$(MAKE) --no-print-directory serve

## The server, a task worker (manage.py db_worker: docs/workers.md) and the webhook sweep
## (manage.py deliver_webhooks --every 60: retries, and deliveries a killed worker left;
## docs/webhooks.md) on the database as it stands; Ctrl-C stops all three.
serve:
	DEBUG=1 $(BIN)/python manage.py db_worker & worker=$$!; \
	DEBUG=1 $(BIN)/python manage.py deliver_webhooks --every 60 & sweep=$$!; \
	trap 'kill $$worker $$sweep 2>/dev/null' EXIT; \
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## PNGs of the main pages (desktop 1366×900 and phone 390×844, English and Spanish) into
## docs/screenshots/: a throwaway server on a free port and a temporary SQLite database with
## what `make run` sets up (docs/screenshots/take.py); Chromium at /usr/bin/chromium.
screenshots: messages
	$(BIN)/python docs/screenshots/take.py

## The test OpenID Provider's Node packages (tests/oidc_provider, for the single sign-on
## tests): `npm ci` when the lock file is newer than the install. Without npm the SSO
## tests skip (and fail under CI=true, where .ci/run installs Node first).
OIDC_PROVIDER := tests/oidc_provider
oidc-provider:
	@if command -v npm >/dev/null; then \
	  [ $(OIDC_PROVIDER)/node_modules/.package-lock.json -nt $(OIDC_PROVIDER)/package-lock.json ] \
	    || (cd $(OIDC_PROVIDER) && npm ci --no-audit --no-fund); \
	else echo "npm not found: the single sign-on tests will skip (apt-get install -y nodejs npm)"; fi

## Run the whole suite (DATABASE_URL picks PostgreSQL; the SQLite default otherwise).
test: messages oidc-provider
	$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; \
	exit $$status

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: install
	SECRET_KEY=check $(BIN)/python manage.py makemigrations --check --dry-run

## Benchmark ratios on PostgreSQL (bench/run.py) at the issue's sizes; BENCH_ARGS="--portfolio-goals 200" is quicker.
## R3 keeps two databases of its own on the same server (sdif_bench_r3_10k, sdif_bench_r3_1m):
## filled once (~4 minutes), reused afterwards; BENCH_ARGS="--skip-r3" leaves them out.
# Its own name: a target-specific assignment to DATABASE_URL stops make from passing the
# caller's DATABASE_URL to every other recipe (`DATABASE_URL=… make test` ran on SQLite).
BENCH_DATABASE_URL = $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/sdif_bench)
bench: install
	@db="$(BENCH_DATABASE_URL)"; name="$${db##*/}"; admin="$${db%/*}/postgres"; \
	psql "$$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '$$name'" | grep -q 1 \
	  || psql "$$admin" -c "CREATE DATABASE \"$$name\""
	DATABASE_URL="$(BENCH_DATABASE_URL)" SECRET_KEY=bench $(BIN)/python manage.py migrate --no-input
	DATABASE_URL="$(BENCH_DATABASE_URL)" SECRET_KEY=bench $(BIN)/python bench/run.py $(BENCH_ARGS)

## Load test (loadtest/run.py, Locust headless): gunicorn, 2 workers, on a fresh PostgreSQL
## database sdif_load (dropped afterwards); DURATION seconds (default 30, at most 60);
## PDF_READERS anonymous clients download a public goal's PDF (default 4; 0 for none).
## Locust's CSV files are kept in loadtest/results/.
DURATION ?= 30
PDF_READERS ?= 4
loadtest: install
	DURATION=$(DURATION) PDF_READERS=$(PDF_READERS) $(BIN)/python -m loadtest.run

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
