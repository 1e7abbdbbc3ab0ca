# `make run` runs the whole system locally; `make test` runs the whole test suite.
# Each keeps its own virtualenv in .venv up to date with the pinned requirements.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# The suite runs on PostgreSQL and Redis: the local servers unless the environment says otherwise.
TEST_DATABASE_URL_FROM_ENV := $(DATABASE_URL)
TEST_REDIS_URL_FROM_ENV := $(REDIS_URL)
TEST_DATABASE_URL := $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/attackacrack)
TEST_REDIS_URL := $(or $(REDIS_URL),redis://127.0.0.1:6379/15)

.PHONY: run test bench drill

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# --no-compile: pip would compile every module it installs (about 20 s of CPU on a fresh clone);
# Python compiles those a run imports, once, as it first imports them.
$(VENV)/.installed-runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --no-compile -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --no-compile -r requirements-dev.txt
	touch $@ $(VENV)/.installed-runtime

run: $(VENV)/.installed-runtime
	$(BIN)/python manage.py migrate --noinput
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start --procfile Procfile.dev --port $${PORT:-8000}

# The suite starts many Python processes (its workers, servers and fresh interpreters): each reads
# the modules an earlier one compiled rather than compiling them again, whatever the shell says.
test: export PYTHONDONTWRITEBYTECODE =
test: export DATABASE_URL = $(TEST_DATABASE_URL)
test: export REDIS_URL = $(TEST_REDIS_URL)
test: export TEST_DATABASE_URL_FROM_ENV := $(TEST_DATABASE_URL_FROM_ENV)
test: export TEST_REDIS_URL_FROM_ENV := $(TEST_REDIS_URL_FROM_ENV)
test: $(VENV)/.installed-dev
	PYTHON=$(BIN)/python scripts/ensure-test-services
	scripts/ensure-chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest --numprocesses 3 --dist worksteal --cov --cov-report=term

# Every bench script against PostgreSQL (DATABASE_URL's server) and Redis: one table, JSON under var/bench/,
# and docs/performance.md rewritten from it.
bench: export DATABASE_URL = $(TEST_DATABASE_URL)
bench: export REDIS_URL = $(TEST_REDIS_URL)
bench: $(VENV)/.installed-dev
	PYTHON=$(BIN)/python scripts/ensure-test-services
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

# The reliability drills (bench/drill.py): each prints what was sent, lost and duplicated; a run of
# them all rewrites docs/reliability.md.
# They restart the local PostgreSQL and Redis servers, so run them on a development machine only.
drill: export DATABASE_URL = $(TEST_DATABASE_URL)
drill: export REDIS_URL = $(TEST_REDIS_URL)
drill: $(VENV)/.installed-dev
	PYTHON=$(BIN)/python scripts/ensure-test-services
	$(BIN)/python bench/drill.py $(DRILL_ARGS)
