# petition — the two set-up commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi

.PHONY: install run test lint prod-check bench translations extract-messages clean

# A prerequisite that is never up to date: it makes a stamp's recipe run every time.
FORCE:

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall whenever a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP) translations

# pybabel exits 1 on errors (a placeholder the code does not pass) but only warns, exit 0,
# about a line it cannot read, and drops it: a broken catalogue fails the build on either.
# What pybabel lets through (an unclosed string, a lost plural form) the catalogue tests
# catch: they run here too, so `make install` and `make run` stop as `make test` would.
# Only when a catalogue, the template or the checks changed since they last passed (or a
# .mo is gone): a second `make run` need not wait for them. `make test` checks anyway.
CATALOGUES := $(wildcard translations/*/LC_MESSAGES/*.po)
COMPILED := $(CATALOGUES:.po=.mo)
TRANSLATED := $(VENV)/.translated

translations: $(TRANSLATED)

$(TRANSLATED): translations/messages.pot $(CATALOGUES) tests/test_i18n.py $(STAMP) \
               $(if $(filter-out $(wildcard $(COMPILED)),$(COMPILED)),FORCE)
	@out=$$($(BIN)/pybabel compile --use-fuzzy -d translations --statistics 2>&1); status=$$?; \
	grep -v '^compiling' <<<"$$out"; \
	if [ $$status -ne 0 ] || grep -q '^WARNING' <<<"$$out"; then \
	  echo "make translations: a catalogue does not compile cleanly, see above" >&2; exit 1; \
	fi
	@test -f translations/fr/LC_MESSAGES/messages.mo || { echo "translations did not compile"; exit 1; }
	@$(BIN)/python -m pytest -q --no-header -p no:cacheprovider tests/test_i18n.py -k catalogue
	@touch $@

# Where `make run` listens: `make run PORT=8080`, or `make run HOST=0.0.0.0` for other
# machines too (the development server, over plain HTTP: only on a network you trust).
HOST ?= 127.0.0.1
PORT ?= 5000
# Links in mails must lead back here. BASE_URL, when given, wins; otherwise HOST and PORT
# make it, with 127.0.0.1 for the every-address hosts no browser can open.
LINK_HOST = $(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(if $(findstring :,$(HOST)),[$(HOST)],$(HOST)))

# Migrate, then seed the demo letter (it only ever adds one to an empty database), when a
# migration is newer than the last upgrade of the SQLite file or that file is gone. Make
# cannot look into a DATABASE_URL (PostgreSQL, say): that one is upgraded on every run, and
# leaves the stamp alone, which speaks for the SQLite file only.
SQLITE_DB := instance/petition.sqlite
MIGRATED := instance/.migrated

$(MIGRATED): $(wildcard migrations/versions/*.py) \
             $(if $(DATABASE_URL)$(if $(wildcard $(SQLITE_DB)),,gone),FORCE) | $(STAMP)
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	$(if $(DATABASE_URL),,@touch $@)

# The app on SQLite with mail printed to this terminal, at http://127.0.0.1:5000
run: install $(MIGRATED)
	@case "$(HOST)" in 127.*|localhost|::1) ;; *) \
	  echo "make run: the development server answers anyone who reaches $(HOST):$(PORT)," \
	    "without TLS. Mail links use $${BASE_URL:-http://$(LINK_HOST):$(PORT)} (set BASE_URL)." >&2;; \
	esac
	MAIL_URL=$${MAIL_URL:-console://} BASE_URL=$${BASE_URL:-http://$(LINK_HOST):$(PORT)} \
	  $(BIN)/flask run --host $(HOST) --port $(PORT)

test: install lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Style, types and the one-way layers (settings and contracts in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The production set-up on loopback, as the README deploys it: gunicorn with three workers
# serving HTTPS, PostgreSQL, Redis, `flask mail worker` and Chromium signing through it.
prod-check: install
	$(BIN)/python -m pytest -q tests/e2e/test_production.py $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run.py

# Refresh the catalogues after changing user-facing strings.
extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k LetterError -k LetterNotFound -k DriveError -k DriveNotFound -k DriveClosed -k NewsError -k NewsNotFound -k InvalidLink -k LinkExpired -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache
