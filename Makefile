# Elements of Convolutional Neural Networks: the commands the README shows.
#   make setup    create or update .venv/ from requirements.txt (near-instant when up to date)
#                 with Python 3.11, 3.12 or 3.13: the newest found on PATH for a new .venv, the
#                 Python of an existing .venv otherwise; PYTHON=python3.12 picks one (and rebuilds
#                 .venv when it was made by another version)
#   make test     setup, then unit tests and nbval over every notebook and lab
#   make lab      setup, then JupyterLab at the course
#   make refresh  re-execute notebooks in place in a fresh kernel (NB=notebooks/00_....ipynb for one)
#   make bench    per-notebook wall time and peak memory, written to build/bench/
#   make labs     re-execute lab solutions and regenerate student versions (LAB=labs/03_batchnorm for one)
#   make grade    grade submitted lab notebooks with otter-grader, no Docker (SUBMISSIONS=dir/),
#                 points per student and exercise in build/grades.csv (CSV=... elsewhere)
#   make release  the labs' student release in build/release/ (no solutions, no hidden cases)
#   make book     the course as a static site with slides, in build/book/ (works offline)
#   make test-cloud   notebook 00 and a lab as Colab runs them: the Setup guard installs the wheel
#   make test-latest  every notebook and lab on the newest library releases (claims asserted)

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done

# The Python versions requirements.txt is locked for (pyproject.toml's requires-python).
SUPPORTED_PYTHONS := 3.11 3.12 3.13
# Major.minor of interpreter $(1); empty when it does not run (e.g. a pyenv shim of a version
# that pyenv has not selected).
python_version = $(shell $(1) -S -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
# The first of the interpreters $(1) that runs and is supported.
first_python = $(if $(1),$(if $(filter $(SUPPORTED_PYTHONS),$(call python_version,$(firstword $(1)))),$(firstword $(1)),$(call first_python,$(wordlist 2,$(words $(1)),$(1)))))
VENV_PYVER := $(if $(wildcard $(PY)),$(call python_version,$(PY)))

# PYTHON: given (make setup PYTHON=python3.12), else the Python of a working .venv, else the
# newest supported one on PATH. PYTHON and PYVER are computed once, and only when used.
ifeq ($(origin PYTHON),undefined)
ifneq ($(filter $(SUPPORTED_PYTHONS),$(VENV_PYVER)),)
PYTHON := $(PY)
PYVER := $(VENV_PYVER)
else
PYTHON = $(eval PYTHON := $(call first_python,python3.13 python3.12 python3.11 python3))$(PYTHON)
endif
endif
PYVER ?= $(eval PYVER := $(call python_version,$(PYTHON)))$(PYVER)

found_pythons = $(if $(PYTHON),$(PYTHON) $(if $(PYVER),is $(PYVER),does not run),$(or $(shell \
  for p in python3.13 python3.12 python3.11 python3; do command -v $$p >/dev/null || continue; \
  v=$$($$p -c 'import sys; print("is %d.%d" % sys.version_info[:2])' 2>/dev/null) || v="does not run"; \
  printf '%s%s %s' "$$sep" $$p "$$v"; sep=', '; done),no python3))
PYTHON_NEEDED = Python 3.11, 3.12 or 3.13 is needed (found: $(found_pythons)); install one or pass PYTHON=/path/to/python3.x
# Expands to nothing, or stops make (also under make -n) when PYTHON is not a supported Python.
check_python = $(if $(filter $(SUPPORTED_PYTHONS),$(PYVER)),,$(error $(PYTHON_NEEDED)))

NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
# Lab notebooks that nbval executes (the solution versions; see labs/README.md).
LAB_NOTEBOOKS := $(sort $(wildcard labs/*/solution/*.ipynb))
NB ?= $(NOTEBOOKS)

# Two test files (two notebooks) at a time: most notebooks keep about one core busy, so a
# 2-core machine runs the suite in about half the time. Each file stays on one worker.
PYTEST_PARALLEL ?= -n 2 --dist loadfile

NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
               --nbval-cell-timeout 600 -p no:cacheprovider

.PHONY: setup test unit nbval test-kernels test-cloud test-latest latest-python lab labs grade release refresh bench clean book book-assets FORCE

setup: $(STAMP)

# Out of date also when .venv runs another Python than PYTHON: then .venv is rebuilt (keeping
# the book's assets, which do not depend on Python). The stamp records the Python version.
$(STAMP): requirements.txt pyproject.toml config/ipython_kernel_config.py \
          $(if $(wildcard $(STAMP)),$(if $(filter $(PYVER),$(VENV_PYVER)),,FORCE))
	@echo "setup: $(VENV) with $(PYTHON) (Python $(PYVER))"$(check_python)
	@if { [ -e $(VENV)/pyvenv.cfg ] || [ -L $(PY) ]; } && [ "$$($(PY) -c 'import sys;print(sys.version_info[:2])' 2>/dev/null)" != "$$($(PYTHON) -c 'import sys;print(sys.version_info[:2])')" ]; then \
	  echo "setup: $(VENV) was made by Python $(or $(VENV_PYVER),(not runnable)), rebuilding it with Python $(PYVER)"; \
	  find $(VENV) -mindepth 1 -maxdepth 1 ! -name book-assets -exec rm -rf {} +; \
	fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	mkdir -p $(VENV)/etc/ipython
	cp config/ipython_kernel_config.py $(VENV)/etc/ipython/ipython_kernel_config.py
	@echo $(PYVER) > $@

FORCE:

test: setup
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory nbval

unit: setup
	$(PY) -m pytest $(PYTEST_PARALLEL) tests -p no:cacheprovider

nbval: setup
	$(PY) -m pytest $(PYTEST_PARALLEL) $(NBVAL_FLAGS) $(NOTEBOOKS) $(LAB_NOTEBOOKS)

# Checked outputs must not depend on the CPU's floating-point kernels (CONTRIBUTING.md, "Outputs
# and nbval"). This re-runs a sample of notebooks that train networks with oneDNN limited to
# AVX2 and OpenBLAS on its Haswell kernels (a laptop without AVX-512), so an output that
# differs between kernels fails here even on a machine with AVX-512.
KERNEL_SAMPLE ?= notebooks/00_image_classification.ipynb notebooks/03_normalization.ipynb \
                 notebooks/05_augmentation.ipynb
test-kernels: setup
	ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell \
	  $(PY) -m pytest $(PYTEST_PARALLEL) $(NBVAL_FLAGS) $(KERNEL_SAMPLE)

# JupyterLab refuses to run as root (common in containers) unless told to.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root)

# The cloud path (tools/fresh_env.py): the course's wheel installed by a notebook's Setup guard
# into a clean environment with only what Colab has by name, on Colab's Python when present.
# (pyenv's shims run only the selected version: its other installed versions are looked up too.)
PYENV_PYTHONS = $(foreach v,$(1),$(lastword $(wildcard $(HOME)/.pyenv/versions/$(v).*/bin/python$(v))))
CLOUD_PYTHON ?= $(or $(call first_python,python3.12 $(call PYENV_PYTHONS,3.12)),$(PYTHON))
test-cloud: setup
	$(PY) tools/fresh_env.py cloud --python $(CLOUD_PYTHON)

# The newest releases of the direct dependencies on the newest supported Python: every notebook
# and lab solution executed, every claim asserted, outputs not compared (tools/fresh_env.py).
NEWEST_PYTHON = $(call first_python,python3.13 $(call PYENV_PYTHONS,3.13) python3.12 $(call PYENV_PYTHONS,3.12))
LATEST_PYTHON ?= $(or $(NEWEST_PYTHON),$(PYTHON))
test-latest: setup
	$(PY) tools/fresh_env.py latest --python $(LATEST_PYTHON) $(PYTEST_PARALLEL)
latest-python:  # for .ci/run: the Python test-latest would use, if newer than 3.11
	@echo $(NEWEST_PYTHON)

lab: setup
	$(PY) -m jupyter lab --ServerApp.root_dir="$(CURDIR)" $(LAB_FLAGS)

labs: setup
	$(PY) tools/labs.py --execute $(LAB)

# Graded mode (labs/README.md): otter's autograder per lab, public and hidden cases.
CSV ?= build/grades.csv
grade: setup
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=dir/ [CSV=build/grades.csv]"; exit 2; }
	$(PY) tools/labs.py --grade $(SUBMISSIONS) --csv $(CSV)

release: setup
	$(PY) tools/labs.py --release build/release

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
	$(PY) -m tools.book --out build/book --assets $(BOOK_ASSETS)/node_modules
