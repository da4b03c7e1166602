# Gift-shop bonuses. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# DEBUG is off unless asked for (a deployment that forgets it shows no debug pages); these are
# development targets, so they turn it on unless the environment says otherwise.
export DEBUG ?= 1

.DEFAULT_GOAL := help
.PHONY: help run test test-postgres lint format check-migrations bench migrate seed clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The virtual environment is rebuilt only when a requirements file changed.
$(BIN)/.installed-runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.installed-dev: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(BIN)/.installed-runtime

migrate: $(BIN)/.installed-runtime ## Apply database migrations
	$(BIN)/python manage.py migrate --no-input

seed: migrate ## Load the demo company (idempotent)
	$(BIN)/python manage.py seed_demo

run: seed ## Install, migrate, load demo data and serve on http://127.0.0.1:8000
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(BIN)/.installed-dev ## Run the whole test suite (DATABASE_URL picks the database)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/.installed-dev ## Check style with ruff (what pre-commit runs)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed-dev ## Reformat the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-migrations: $(BIN)/.installed-runtime ## Fail when models changed without a migration
	$(BIN)/python manage.py makemigrations --check --dry-run

test-postgres: $(BIN)/.installed-dev ## Run the test suite on a throwaway PostgreSQL cluster
	scripts/with-postgres $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(BIN)/.installed-dev ## Run the benchmarks in bench/ (BENCH_SCALE=0.1 for a quick run)
	@for script in $(filter-out bench/common.py,$(wildcard bench/*.py)); do \
		echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean: ## Remove the virtual environment, the SQLite database and collected files
	rm -rf $(VENV) var .pytest_cache .ruff_cache
