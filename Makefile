# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make run` installs only what runs (requirements.txt); `make test`, `make check` and CI (`make install`)
# add the development requirements (tests, linters, type stubs, browser driver) on top.
RUN_STAMP := $(VENV)/.installed-run

.PHONY: run test install node-deps migrate lint format check

# Reinstall only when a requirements file changed.
$(RUN_STAMP): requirements-base.txt requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP) requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

.PHONY: install-run
install-run: $(RUN_STAMP)

migrate: install-run
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable

# Set up (idempotent) and start web + worker + beat; Ctrl-C stops all.
run: migrate
	$(BIN)/python manage.py bootstrap
	$(BIN)/honcho start

# node-fetch for the seed page's JavaScript example test (skipped where there is no npm).
node-deps:
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/api/seed/js --no-audit --no-fund --silent; fi

# The JavaScript SDK for tests/sdks: TypeScript from its lockfile, then dist/ (ESM + CommonJS +
# declarations). Skipped where there is no npm.
# (its own .PHONY line: the shared one above is edited on other branches too)
.PHONY: sdk-deps
sdk-deps:
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix sdks/js --no-audit --no-fund --silent && npm run --prefix sdks/js --silent build; fi

# The whole test suite on the configured backends (embedded defaults unless
# DATABASE_URL / REDIS_URL are set).
test: install node-deps sdk-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Static checks, run by .ci/run before the tests: formatting, lint, types (mypy with the Django and DRF
# plugins on the files listed in pyproject.toml) and the import architecture (no cycles, no upward imports,
# no Django in imaging).
check: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_architecture.py

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
