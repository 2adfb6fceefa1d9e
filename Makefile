# peacewatch: the two commands a newcomer needs are `make demo` and `make test`.
# Both start from nothing: they create .venv, install the project, and install what they need.

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DATA ?= data
REPORTS ?= 2000
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= 2

.PHONY: demo test test-fast test-ha test-load bench bench-deps lint typecheck venv system-deps postgres clean help

help:
	@echo "make demo   - set up, seed a demo mission into ./$(DATA) (SQLite) and serve it on http://$(HOST):$(PORT)"
	@echo "make test   - set up (venv, Debian packages, PostgreSQL) and run the whole suite on SQLite and PostgreSQL"
	@echo "make bench  - run every benchmark (quick sizes; full sizes: make bench BENCH_ARGS=)"
	@echo "make test-ha - PostgreSQL fail-over proof (primary + synchronous replica)"

$(STAMP): pyproject.toml setup.py
	@echo "setting up $(VENV) (log: $(VENV)/install.log)"
	@$(PY) -m venv $(VENV)
	@# Quiet unless it fails: setuptools' editable build prints hundreds of warning lines.
	@{ $(BIN)/pip install --upgrade pip setuptools wheel && $(BIN)/pip install -e '.[app,test]'; } \
		> $(VENV)/install.log 2>&1 || { tail -40 $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

venv: $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

postgres:
	@bash scripts/ensure-postgres.sh

demo: venv
	@if [ ! -f $(DATA)/.seeded ]; then \
		$(BIN)/peacewatch seed --data-dir $(DATA) --reports $(REPORTS) && touch $(DATA)/.seeded; \
	fi
	$(BIN)/peacewatch server --data-dir $(DATA) --host $(HOST) --port $(PORT)

test: venv system-deps postgres
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -p no:cacheprovider $(PYTEST_ARGS)

test-fast: venv postgres
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not slow and not browser and not window" -p no:cacheprovider $(PYTEST_ARGS)

BENCH_ARGS ?= --quick
# The baseline bench/sync.py compares with, pinned, installed through npm into the project's own
# folder (bench/.node, not committed): nothing global, nothing to install by hand.
POUCHDB_SERVER_VERSION := 4.2.0
POUCH_BIN := bench/.node/node_modules/.bin/pouchdb-server
$(POUCH_BIN):
	@command -v npm >/dev/null || { echo "make bench needs Node.js and npm (apt-get install nodejs npm)"; exit 1; }
	npm install --prefix bench/.node --no-save --no-audit --no-fund --loglevel=error pouchdb-server@$(POUCHDB_SERVER_VERSION)
bench-deps: $(POUCH_BIN)

bench: venv postgres bench-deps
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b $(BENCH_ARGS) || exit 1; done

lint: venv
	$(BIN)/ruff check common mobile server tests bench

# mypy on the UI-free layers (common/, mobile/core/); also part of make test.
typecheck: venv
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/meta/test_typing.py

clean:
	rm -rf $(VENV) build *.egg-info

test-ha: venv
	bash scripts/ha/run.sh test

# A bounded load run (10 tablets, 10 s, SQLite and PostgreSQL): fails on any error, loss or duplicate.
test-load: venv postgres
	$(BIN)/python bench/load.py --quick
