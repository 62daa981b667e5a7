# Two commands: `make run` and `make test`. Both create .venv and install requirements.txt first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup data lint bench clean-db

$(INSTALLED): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(INSTALLED)

setup: $(INSTALLED)

# Migrate, load the five seed articles and the curated Palmyra record (both idempotent),
# make sure the demo curator exists, then serve.
data: $(INSTALLED)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py import_seeds
	$(PY) manage.py load_curated_record
	$(PY) manage.py ensure_demo_curator

run: data
	@echo "Serving the archive on http://$(HOST):$(PORT)/ — curators log in at http://$(HOST):$(PORT)/admin/ (demo account: curator / palmyra-curator)"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: $(INSTALLED)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

clean-db:
	rm -f db.sqlite3 db.sqlite3-wal db.sqlite3-shm
