# The two commands: `make run` (the demo hotel on the embedded defaults) and `make test`.
# Both create .venv and install what is missing first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
WEB_HOST ?= 127.0.0.1
WEB_PORT ?= 8000
# The demo runs as a hotel sees it (the error pages, not Django's debug pages): DEBUG=1 make run
# shows tracebacks while developing.
DEBUG ?= 0
PYTEST_ARGS ?=
# The layers, from the bottom (import-linter checks the order: pyproject.toml).
PACKAGES := crm_messaging guests channels_out campaigns interfaces

.PHONY: run test install check lint migrate demo clean openapi openapi-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstalled whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py setup_sandbox
	$(BIN)/python manage.py seed_demo_campaigns
	$(BIN)/python manage.py seed_inbox
	$(BIN)/python manage.py setup_roles --demo-users

run: demo
	@echo ""
	@echo "  Hotel CRM messaging is starting (web + Celery worker + beat, SQLite and a filesystem broker under var/)."
	@echo "  Open   http://$(WEB_HOST):$(WEB_PORT)/"
	@echo "  Log in as  demo / demo"
	@echo "  Stop with Ctrl-C."
	@echo ""
	DEBUG=$(DEBUG) VIRTUAL_ENV_BIN=$(abspath $(BIN)) WEB_HOST=$(WEB_HOST) WEB_PORT=$(WEB_PORT) PUBLIC_BASE_URL=http://$(WEB_HOST):$(WEB_PORT) \
		$(BIN)/honcho --procfile Procfile.dev --app-root . start

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(PACKAGES)
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check
	$(MAKE) openapi-check

# The REST API's OpenAPI schema, generated from the code and checked in (docs/openapi.yaml).
openapi: install
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

openapi-check: install
	@mkdir -p var
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml
	@diff -u docs/openapi.yaml var/openapi.yaml || { echo "docs/openapi.yaml is out of date: run make openapi"; exit 1; }

clean:
	rm -rf $(VENV) var staticfiles
