# Elements of Convolutional Neural Networks: the commands the README shows.
#   make setup    create or update .venv/ from requirements.txt (near-instant when up to date)
#   make test     setup, then unit tests and nbval over every notebook and lab
#   make lab      setup, then JupyterLab at the course
#   make refresh  re-execute notebooks in place in a fresh kernel (NB=notebooks/00_....ipynb for one)
#   make bench    per-notebook wall time and peak memory, written to build/bench/
#   make labs     re-execute lab solutions and regenerate student versions (LAB=labs/03_batchnorm for one)
#   make book     the course as a static site with slides, in build/book/ (works offline)

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done

NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
# Lab notebooks that nbval executes (the solution versions; see labs/README.md).
LAB_NOTEBOOKS := $(sort $(wildcard labs/*/solution/*.ipynb))
NB ?= $(NOTEBOOKS)

# Two test files (two notebooks) at a time: most notebooks keep about one core busy, so a
# 2-core machine runs the suite in about half the time. Each file stays on one worker.
PYTEST_PARALLEL ?= -n 2 --dist loadfile

NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
               --nbval-cell-timeout 600 -p no:cacheprovider

.PHONY: setup test unit nbval lab labs refresh bench clean book book-assets

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml config/ipython_kernel_config.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	mkdir -p $(VENV)/etc/ipython
	cp config/ipython_kernel_config.py $(VENV)/etc/ipython/ipython_kernel_config.py
	touch $@

test: setup
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory nbval

unit: setup
	$(PY) -m pytest $(PYTEST_PARALLEL) tests -p no:cacheprovider

nbval: setup
	$(PY) -m pytest $(PYTEST_PARALLEL) $(NBVAL_FLAGS) $(NOTEBOOKS) $(LAB_NOTEBOOKS)

# JupyterLab refuses to run as root (common in containers) unless told to.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: setup
	$(PY) -m jupyter lab --ServerApp.root_dir="$(CURDIR)" $(LAB_FLAGS)

labs: setup
	$(PY) tools/labs.py --execute $(LAB)

refresh: setup
	$(PY) tools/refresh.py $(NB)

bench: setup
	$(PY) tools/bench.py --out build/bench $(NB)

clean:
	rm -rf build .pytest_cache

# The book's offline assets (MathJax, reveal.js): installed once from the npm registry at the
# versions pinned in tools/book/package-lock.json, kept in .venv/ so `make clean` keeps them.
BOOK_ASSETS := $(VENV)/book-assets
$(BOOK_ASSETS)/.installed: tools/book/package.json tools/book/package-lock.json
	@command -v npm >/dev/null || { echo "make book-assets needs npm (Debian: apt-get install npm)"; exit 1; }
	mkdir -p $(BOOK_ASSETS)
	cp tools/book/package.json tools/book/package-lock.json $(BOOK_ASSETS)/
	cd $(BOOK_ASSETS) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

book-assets: $(BOOK_ASSETS)/.installed

book: setup book-assets
	$(PY) tools/book.py --out build/book --assets $(BOOK_ASSETS)/node_modules
