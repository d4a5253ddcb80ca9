# `make run` installs and serves on port 5010; `make test` installs and runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# The second pass runs the API, admin and job tests against PostgreSQL (the scale-out mode).
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/error_tracker
export TEST_POSTGRES_URL
export TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test bench install install-dev system-deps services node-deps

run: install
	$(BIN)/error-tracker

test: install-dev system-deps services node-deps
	$(BIN)/lint-imports
	$(BIN)/pytest
	TEST_DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/pytest -m "not server and not browser and not load"

services:
	scripts/ensure-services

# Not part of `make test`: figures, not pass/fail timing (see bench/README.md).
# `make bench BENCH_ARGS="--baseline REV"` measures REV and this checkout back to back.
bench: install-dev services
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(BIN)/python bench/ingest.py $(BENCH_ARGS)

# The Node SDK the client tests run (tests/sdk_clients.py), exactly as tests/node/package-lock.json pins it;
# npm ci again only when the lock file is newer than the last install.
NODE_DEPS := tests/node/node_modules/.installed
node-deps: $(NODE_DEPS)

$(NODE_DEPS): tests/node/package.json tests/node/package-lock.json
	npm ci --prefix tests/node --no-audit --no-fund
	touch $@

# The browser tests drive Debian's Chromium (nothing downloads a browser here).
system-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@
