# Everything a newcomer needs: `make test` and `make demo` set themselves up on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install test test-browser demo bench lint check-wheel matrix clean

help:
	@echo "make test          create $(VENV), install, run the whole test suite"
	@echo "make demo          create $(VENV), install, migrate, seed and serve the demo at http://$(HOST):$(PORT)/"
	@echo "make test-browser  end-to-end tests in a real Chromium (installs Debian's chromium if missing)"
	@echo "make bench         the benchmark: ratios side by side, medians of interleaved runs"
	@echo "make lint          ruff and mypy --strict"
	@echo "make matrix        the supported Django x django-debug-toolbar combinations (nox)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e . --group test --group server --group lint
	@touch $@

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -m "not browser"

demo: $(STAMP)
	cd demo && ../$(PY) manage.py migrate --noinput
	cd demo && ../$(PY) manage.py migrate --database archive --noinput
	cd demo && ../$(PY) manage.py seed_demo
	cd demo && ../$(PY) manage.py runserver $(HOST):$(PORT)

# QUICK=1 runs every scenario tiny: it proves the benchmark works and judges nothing.
bench: $(STAMP)
	$(PY) -m bench $(if $(QUICK),--quick,)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

clean:
	rm -rf $(VENV) build dist *.egg-info demo/db.sqlite3
