# Everything a newcomer needs: `make test` and `make demo` set themselves up on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BROWSER_STAMP := $(VENV)/.browser-installed
# apt-get needs root: use sudo only when not root already.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8000
# make demo DB=postgres / make bench DB=postgres: a throwaway PostgreSQL cluster instead of SQLite files.
DB ?= sqlite
ON_POSTGRES = $(if $(filter postgres,$(DB)),$(PY) -m tests.services --database $(1) --database $(1)_archive --,)

.PHONY: help install test test-fast test-browser screenshots chromium services demo bench lint check-wheel matrix compat strict-cost clean

help:
	@echo "make test          create $(VENV), install, run the whole test suite (SQLite, then PostgreSQL) with coverage (and its floor)"
	@echo "make test-fast     the suite without the slow tests (wheel, benchmark, servers, subprocesses): the edit loop"
	@echo "make demo          create $(VENV), install, migrate, seed and serve the demo at http://$(HOST):$(PORT)/"
	@echo "                   (DB=postgres: on a throwaway PostgreSQL cluster instead of SQLite files)"
	@echo "make test-browser  end-to-end tests in a real Chromium (installs Debian's chromium if missing)"
	@echo "make screenshots   regenerate docs/panel-light.png and docs/panel-dark.png from the demo"
	@echo "make bench         the benchmark: ratios side by side, medians of interleaved runs (DB=postgres too)"
	@echo "make lint          ruff and mypy --strict, over the package and the tests"
	@echo "make matrix        the supported Django x django-debug-toolbar combinations (nox)"
	@echo "make compat        django-simple-history's and django-model-utils' own suites, plain and under capture()"
	@echo "make strict-cost   strict mode's time cost on those suites and on part of Django's own (several minutes)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e . --group test --group server --group lint --group matrix
	@touch $@

install: $(STAMP)

# The suite on SQLite (the multi-worker tests on PostgreSQL and Redis), then the database-facing tests again with
# PostgreSQL as the default database (tests/settings_postgres.py). Each run ends with its count per backend.
# Coverage of the package over both runs and the subprocesses they start (combined), with the floor set in
# pyproject.toml ([tool.coverage.report] fail_under).
test: $(STAMP) services
	$(PY) -m coverage erase
	$(PY) -m coverage run -m pytest -m "not browser"
	$(PY) -m coverage run -m pytest -m "not browser" --ds=tests.settings_postgres
	$(PY) -m coverage combine --quiet
	$(PY) -m coverage report

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

# Debian's postgresql and redis-server. The tests start throwaway servers of their own (tests/services.py) and
# never use the packages' system services.
services:
	@{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; } && \
		command -v redis-server >/dev/null 2>&1 || { \
		$(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql redis-server; } || { \
		echo "make test needs Debian's postgresql and redis-server and could not install them;" \
			"install them, or run the SQLite tests only: $(PY) -m pytest -m 'not browser and not postgres'" >&2; \
		exit 1; }

# Debian's chromium package, driven by Playwright's Python package (`playwright install` is not needed).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		$(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

$(BROWSER_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --group browser
	@touch $@

test-browser: $(BROWSER_STAMP) chromium
	$(PY) -m pytest -m browser tests/browser

screenshots: $(BROWSER_STAMP) chromium
	SCREENSHOTS_DIR=$(CURDIR)/docs $(PY) -m pytest -m browser tests/browser -k screenshots -p no:randomly

# With DB=postgres, tests/services.py starts a cluster, runs the four steps in it and stops it (data and all)
# when the server is stopped with Ctrl-C.
demo: $(STAMP) $(if $(filter postgres,$(DB)),services,)
	$(call ON_POSTGRES,demo) env DEMO_DB=$(DB) sh -c 'cd demo && \
		../$(PY) manage.py migrate --noinput && \
		../$(PY) manage.py migrate --database archive --noinput && \
		../$(PY) manage.py seed_demo && \
		exec ../$(PY) manage.py runserver $(HOST):$(PORT)'

# QUICK=1 runs every scenario tiny: it proves the benchmark works and judges nothing.
bench: $(STAMP) $(if $(filter postgres,$(DB)),services,)
	$(call ON_POSTGRES,bench) env DT_BENCH_DB_BACKEND=$(DB) $(PY) -m bench $(if $(QUICK),--quick,) $(BENCHARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

# Every supported Python x Django x django-debug-toolbar leg whose interpreter is on this machine.
# With pyenv, its installed CPythons are put on the path so nox finds python3.13 and friends.
matrix: $(STAMP)
	PYENV_VERSION="$${PYENV_VERSION:-$$(pyenv versions --bare 2>/dev/null | grep -E '^3\.1[0-9]+\.[0-9]+$$' | sort -t. -k2,2nr | tr '\n' ':')}" \
		$(VENV)/bin/nox $(NOXARGS)

# Third-party test suites run plain and with a capture() around every test, compared test by test (outcomes
# and what their receivers received); non-zero on any difference. Its venv and downloads live in .compat/.
# COMPAT_SUITES="django-model-utils" runs only the named ones; COMPAT_DB=postgres runs them on PostgreSQL (the
# cluster in DT_SIGNALS_PG_HOST/DT_SIGNALS_PG_PORT, else a throwaway one from tests/services.py).
compat:
	$(PYTHON) compat/run.py $(COMPAT_SUITES)

# Strict mode's cost: the two suites above and a signal-heavy part of Django's own test suite (from Django's
# sdist), each run plain and with strict mode on, interleaved; medians of wall and CPU time, and every test's
# outcome compared (non-zero when one differs). About 10 minutes with the default 3 rounds.
# STRICT_COST_ARGS="--rounds 5 django" for more rounds or fewer suites; the report is .compat/strict-cost.txt.
strict-cost:
	$(PYTHON) compat/strict_cost.py $(STRICT_COST_ARGS)

clean:
	rm -rf $(VENV) .compat .nox build dist *.egg-info demo/db*.sqlite3
