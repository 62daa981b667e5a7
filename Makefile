# `make run` (development), `make serve` (production, DEBUG off) and `make test`. Each creates .venv and
# installs requirements.txt first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test setup data lint bench clean-db

$(INSTALLED): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(INSTALLED)

setup: $(INSTALLED)

# Migrate, load the five seed articles and the curated Palmyra record (both idempotent),
# make sure the demo curator exists, then serve.
data: $(INSTALLED)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py import_seeds
	$(PY) manage.py load_curated_record
	$(PY) manage.py ensure_demo_curator

run: data
	@echo "Serving the archive on http://$(HOST):$(PORT)/ — curators log in at http://$(HOST):$(PORT)/admin/ (demo account: curator / palmyra-curator)"
	$(PY) manage.py runserver $(HOST):$(PORT)

# Production: DEBUG off, the static files collected for whitenoise, the database migrated and the
# seeds and curated record loaded (idempotent), then gunicorn (heritage/gunicorn.conf.py). No demo
# account. Needs SECRET_KEY; HTTPS is assumed (README, Deployment: HTTPS=false for plain HTTP locally).
serve: export DEBUG := false
serve: export ALLOWED_HOSTS ?= $(HOST),localhost
serve: $(INSTALLED)
	@test -n "$$SECRET_KEY" || { echo "make serve: set SECRET_KEY (README, Deployment), e.g. SECRET_KEY=\$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" >&2; exit 1; }
	$(PY) manage.py check --deploy --fail-level ERROR
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py import_seeds
	$(PY) manage.py load_curated_record
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "Serving the archive with DEBUG off on http://$(HOST):$(PORT)/ (gunicorn, heritage/gunicorn.conf.py)"
	exec $(PY) -m gunicorn -c heritage/gunicorn.conf.py --bind $(HOST):$(PORT)

# axe-core, the accessibility engine the browser tests run in chromium (package.json; test only).
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

test: $(INSTALLED) $(AXE)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

clean-db:
	rm -f db.sqlite3 db.sqlite3-wal db.sqlite3-shm
