# The two commands are the contract: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONUNBUFFERED := 1

.PHONY: run test test-services test-e2e test-fuzz install constraints migrate demo lint schema clean bench-pages

## Every dependency at the version in constraints.txt, which the Dockerfile installs through too
## (the image runs what CI tested). `make install VENV=/tmp/venv` builds another venv.
$(STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## After changing pyproject.toml's dependencies: install the new versions into the venv
## (`.venv/bin/pip install -e '.[dev]' 'package==new'`), run the lanes, then `make constraints`.
constraints:
	{ grep '^#' constraints.txt; $(BIN)/pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

migrate: $(STAMP)
	mkdir -p var/broker/out var/broker/processed var/media
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable

demo: migrate
	$(BIN)/python manage.py load_demo --if-empty

## make run: web on http://127.0.0.1:8000 + Celery worker with embedded beat; Ctrl-C stops all.
## `set -m` gives each process its own group, so Ctrl-C reaches only this shell. Its trap (which
## clears itself first, so it cannot fire inside itself) sends SIGTERM to the Celery main
## process (a warm shutdown that stops its own pool and beat) and to runserver's whole group
## (the reloader and its child), then waits for both.
run: demo
	$(BIN)/python manage.py demo_accounts
	@echo "Serving http://127.0.0.1:8000  (admin: /admin/, API docs: /api/docs/) — Ctrl-C stops all."
	@set -m; \
	  $(BIN)/celery -A config worker --beat --loglevel=INFO --concurrency=2 \
	    --schedule var/celerybeat-schedule & celery_pid=$$!; \
	  $(BIN)/python manage.py runserver 127.0.0.1:8000 & server_pid=$$!; \
	  trap 'trap - INT TERM HUP EXIT; kill -TERM $$celery_pid -$$server_pid 2>/dev/null; wait; exit 0' \
	    INT TERM HUP EXIT; \
	  wait

## make test: the whole suite that needs no outside service (SQLite, eager Celery). The three
## other lanes' folders are deselected by their markers anyway; ignoring them, and the pytest
## plugins only the fuzz lane uses (schemathesis, hypothesis, faker's fixture, anyio), saves
## each worker about 3 s of collecting and importing.
NO_FUZZ_PLUGINS := -p no:schemathesis -p no:hypothesispytest -p no:faker -p no:anyio
## The byte-code is written once, before the workers start (each would compile every module of
## the project itself, 1.6 s a process, where PYTHONDONTWRITEBYTECODE is set).
APPS := accounts config core deliberation governance monitoring notifications petitions privacy reports residents territory volunteers
test: $(STAMP)
	$(BIN)/python -m compileall -q -j 2 $(APPS) tests >/dev/null
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n 2 -q --no-migrations --ignore=tests/fuzz --ignore=tests/e2e \
	  --ignore=tests/integration $(NO_FUZZ_PLUGINS) -rfEs

## The services lane: PostgreSQL + Redis + a real Celery worker (see .ci/run). This lane and the
## two below start what they need, so any skip fails them (FAIL_ON_SKIP, tests/skip_guard.py).
test-services: $(STAMP)
	FAIL_ON_SKIP=1 $(BIN)/pytest -n 2 -q -rfEs --create-db
	FAIL_ON_SKIP=1 $(BIN)/pytest -q -rfEs -m integration tests/integration

## Two workers, each with its own live server, in-memory database and Chromium: one alone kept
## the box 60 % busy (the browser's round trips), two take 204 s instead of 272 s.
test-e2e: $(STAMP)
	FAIL_ON_SKIP=1 $(BIN)/pytest -n 2 -q -rfEs -m e2e tests/e2e

## Schemathesis against /api/schema/, every operation as each of 7 callers, fixed seed (tests/fuzz).
## LEAKSCAN=0: generated inputs are 11-digit numbers the API echoes back; they are nobody's phone.
test-fuzz: $(STAMP)
	LEAKSCAN=0 FAIL_ON_SKIP=1 $(BIN)/pytest -n 2 -q -rfEs -m fuzz tests/fuzz --no-migrations

## Ruff, then mypy (strict, over the apps; tests, bench and ops are not type-checked), then the layer
## contract (import-linter; pyproject.toml and docs/architecture.md).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy $(APPS)
	$(BIN)/lint-imports

## CPU ms per request of the hot pages at 100,000 and 1,000,000 petitions (bench/pages.py; not a
## test: figures, no pass/fail). PostgreSQL on 127.0.0.1 and Redis; the databases are seeded once
## (bench/load/prepare.py), created first if missing. BENCH_PAGES_ARGS=--explain adds the plans.
BENCH_PAGES_PG ?= postgres://postgres@127.0.0.1:5432
bench-pages: $(STAMP)
	@for db in portal_pages_100k portal_pages_1m; do \
	  psql "$(BENCH_PAGES_PG)/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname='$$db'" | grep -q 1 \
	    || psql "$(BENCH_PAGES_PG)/postgres" -qc "CREATE DATABASE $$db LOCALE 'C' TEMPLATE template0"; \
	done
	$(BIN)/python bench/pages.py --pg $(BENCH_PAGES_PG) --seed --petitions 100000 $(BENCH_PAGES_ARGS)
	$(BIN)/python bench/pages.py --pg $(BENCH_PAGES_PG) --seed --petitions 1000000 $(BENCH_PAGES_ARGS)

schema: $(STAMP)
	$(BIN)/python manage.py spectacular --file docs/openapi.yaml --validate

clean:
	rm -rf var/broker var/celerybeat-schedule*
