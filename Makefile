# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEMO_PASSWORD ?= sdif-demo-2019
export DEMO_PASSWORD

.PHONY: run test install lint format migrations-check serve check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## Run the app on the embedded SQLite default with the SDIF plan and demo users.
run: install
	DEBUG=1 $(BIN)/python manage.py migrate --no-input
	DEBUG=1 $(BIN)/python manage.py import_plan plans/sdif-fy19.yaml --if-absent
	DEBUG=1 $(BIN)/python manage.py create_demo_users
	@echo ""
	@echo "  SDIF Tracker: http://127.0.0.1:$(PORT)/"
	@echo "  Demo users admin, leader, deputy, contributor, reviewer, outsider"
	@echo "  Password (development only): $(DEMO_PASSWORD)"
	@echo ""
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## Run the whole suite (DATABASE_URL picks PostgreSQL; the SQLite default otherwise).
test: install
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

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
