# Two commands matter: `make run` (set up and serve) and `make test` (set up
# and run every check). Everything else is a step they share.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

# Local development and tests run with DEBUG on unless the caller says otherwise
# (production sets DEBUG=false and a SECRET_KEY; see README).
export DEBUG ?= true

.PHONY: run test setup install check-python lint check pytest clean-db drill bench

# The demo's seeded claims cite no evidence yet: verdicts without evidence are allowed
# here only (REQUIRE_VERDICT_EVIDENCE, on by default; `make test` keeps it on).
run: export REQUIRE_VERDICT_EVIDENCE ?= false
run: setup
	$(MANAGE) runserver $(HOST):$(PORT)

test: setup check

# Make sure a checkpoint signing key exists (a development key in .ledger/),
# migrate (as the tables' owner), load the seed claims (idempotent), sign a
# checkpoint of the ledger if the latest does not cover it, and ensure the
# demo accounts.
setup: install
	$(MANAGE) ensure_signing_key
	$(MANAGE) migrate --noinput
	$(MANAGE) load_seeds
	$(MANAGE) sign_checkpoint
	$(MANAGE) ensure_demo_users

install: $(VENV)/.installed

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null || { \
	  echo "Python 3.12 or newer is required (Django 6.1); '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	  echo "Install Python 3.12+ (for example: pyenv install 3.12, which .python-version selects)"; \
	  echo "or point the Makefile at one: make PYTHON=python3.12 run"; \
	  exit 1; }

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt | check-python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' || { \
	  echo "$(VENV) was made with an older Python; delete it (rm -rf $(VENV)) and run make again."; exit 1; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	@touch $@

# Lint, migrations in sync with the models, then the whole suite.
check: lint pytest

# The same tools as .pre-commit-config.yaml, from the virtualenv, checking only;
# then types (mypy: settings in pyproject.toml) and migrations.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	find claims sources factcheck tests manage.py -name '*.py' -not -path '*/__pycache__/*' \
	  | xargs $(BIN)/django-upgrade --target-version 6.1 --check
	$(BIN)/djhtml --tabwidth 2 --check templates
	$(BIN)/mypy
	$(MANAGE) makemigrations --check --dry-run

# The suite alone. FAST=1 leaves out the browser, fuzz and slow tests (markers
# in pyproject.toml) for a quick local loop; `make test` runs them all.
pytest: install
	$(BIN)/pytest $(if $(FAST),-m "not browser and not fuzz and not slow")

# The fault drill (README, "Fault drill"): gunicorn under load while the database
# restarts and a worker is killed; fails if an acknowledged write was lost.
drill: install
	$(MANAGE) drill $(DRILL_ARGS)

# The benchmark (README, "Benchmark"): generated databases of 10k and 1M claims (reused
# once made), served by gunicorn as in production; prints one table with the goals.
# BENCH_ARGS='--quick' for tiny sizes, '--sizes 10k,100k' for others.
bench: install
	$(MANAGE) bench $(BENCH_ARGS)

# Drop the embedded database's data (it is recreated on the next run), and the
# checkpoints signed for it, which a new ledger would contradict.
clean-db:
	rm -rf .pgdata .ledger/checkpoints-*
