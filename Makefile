# `make run` serves the app with demo data; `make test` runs every test.
# Both build the virtual environment (.venv/) and the front-end assets on first use.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The test suite runs against real PostgreSQL and Redis; override any of these.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cpd
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
TEST_BROKER_URL ?= redis://127.0.0.1:6379/1
TEST_ENV = DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	CELERY_BROKER_URL=$(TEST_BROKER_URL) SECRET_KEY=tests-only-not-secret DEBUG=0 \
	SITE_URL=http://testserver EMAIL_URL=consolemail://

.PHONY: install assets run upgrade backup restore worker beat test bench mutation mutation-recheck load lint format check-services chromium clean

install: $(VENV)/.installed assets

$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check --require-hashes -r requirements.lock
	touch $@

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

assets: static/css/app.css

static/css/app.css: node_modules/.installed static/scss/app.scss
	npx --no-install sass --no-source-map --style=compressed --load-path=node_modules \
		static/scss/app.scss static/css/app.css
	mkdir -p static/govuk
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js static/govuk/
	cp -r node_modules/govuk-frontend/dist/govuk/assets static/govuk/

# Links in mail and pages follow the port: SITE_URL defaults to the address
# served (an explicit SITE_URL in the environment wins).
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: install
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py seed_demo
	@echo "Serving on $$SITE_URL/  (Ctrl-C to stop)"
	exec $(VENV)/bin/gunicorn config.wsgi --bind $(HOST):$(PORT) --workers 2 \
		--access-logfile - --graceful-timeout 5

# A release on a running service: install what the lock file says, migrate
# (every migration is safe while the previous release still serves:
# tests/config/test_migration_safety.py), collect static files, check the
# deploy settings; then restart web, worker and beat onto the new code.
upgrade: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py check --deploy --fail-level WARNING

# A dated archive of the database and the private files (README, "Backups"),
# with the same DATABASE_URL, PRIVATE_MEDIA_ROOT, ... as the app; then archives
# in DIR older than KEEP_DAYS are deleted. Run it nightly.
DIR ?= backups
KEEP_DAYS ?= 30
backup: $(VENV)/.installed
	$(PY) manage.py backup --dir "$(DIR)" --keep-days $(KEEP_DAYS)

# Into an empty database and media folder (FORCE=1 replaces what they hold);
# then everyone in the erasure log (ERASURE_LOG_PATH) is erased again.
restore: $(VENV)/.installed
	@test -n "$(FILE)" || { echo "Say which archive: make restore FILE=backups/cpd-YYYYmmdd-HHMMSS.tar.gz" >&2; exit 1; }
	$(PY) manage.py restore "$(FILE)" $(if $(FORCE),--force)

worker: install
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A config beat --loglevel=INFO --schedule .local/celerybeat-schedule

check-services: $(VENV)/.installed
	@$(TEST_ENV) $(PY) -m config.preflight

# Debian's chromium drives the browser tests (never a downloaded browser build).
chromium:
	@command -v chromium >/dev/null || { \
		echo "Installing Debian's chromium for the browser tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# A fresh test database every run: a database kept from an older checkout (with
# migrations since renamed) must never decide whether the suite passes.
# TEST_WORKERS processes (pytest-xdist), each with its own test database
# (test_..._gw0, _gw1); tests/xdist_services.py gives the second its own Redis
# and keeps the fault tests in one process. TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
test: install chromium check-services
	$(TEST_ENV) $(PY) -m pytest --create-db -p tests.xdist_services \
		-n $(TEST_WORKERS) $(PYTEST_ARGS)

# Prints figures (no timed assertions); its own database cpd_bench, gunicorn and wrk on loopback.
bench: install check-services
	$(PY) tests/perf/bench_catalogue.py $(BENCH_ARGS)

# Mutation testing of the services (bookings, consent, marketing, privacy, funding):
# `make mutation` runs them all (many hours on 2 cores); MUTANTS="consent.services*"
# runs some; results accumulate in mutants/ (delete it to start again). Results: `.venv/bin/mutmut results`; the score is in docs/assurance.md.
MUTANTS ?=
mutation: install check-services
	$(TEST_ENV) DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd_mutation \
		$(VENV)/bin/mutmut run --max-children 1 $(MUTANTS)
	$(VENV)/bin/python tests/perf/mutation_score.py

# After writing tests for survivors: does one of TESTS kill each surviving MUTANTS
# (globs)? Kills are recorded in mutmut's results; see tests/perf/mutation_recheck.py.
TESTS ?=
mutation-recheck: install check-services
	$(TEST_ENV) DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd_mutation \
		$(PY) tests/perf/mutation_recheck.py $(MUTANTS) --tests $(TESTS)
	$(VENV)/bin/python tests/perf/mutation_score.py

# 200 signed-in learners for two minutes through gunicorn, a worker and an SMTP sink.
load: install check-services
	$(PY) tests/perf/load_learners.py $(LOAD_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules static/css/app.css static/govuk staticfiles
