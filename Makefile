# Thin targets: each installs what it needs into .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# nbgrader runs the `alembic` command: the venv's scripts must be on PATH.
export PATH := $(abspath $(BIN)):$(PATH)

# Instructor commands take ARGS, e.g. make autograde ARGS="01_data_preparation --jobs 4";
# COURSE is the nbgrader course folder (make formgrader COURSE=demo/course after make demo).
COURSE ?= course
# Jupyter refuses to run as root unless told: containers and CI machines often are root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
GRADING := release collect autograde feedback export report similarity

.PHONY: setup demo test lab build check wheel formgrader $(GRADING)

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml admin/pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps -e . -e admin
	touch $(STAMP)

demo: setup
	$(BIN)/python -m pixelschool_admin demo

# The student runtime's dependencies (pyproject.toml) as wheels, for the test that installs
# the README's student line offline into a bare venv (tests/runtime/test_student_install.py).
WHEELHOUSE := $(VENV)/wheelhouse
$(WHEELHOUSE)/.done: $(STAMP) constraints.txt pyproject.toml
	$(BIN)/python -m pip download --quiet --only-binary=:all: --dest $(WHEELHOUSE) \
		-c constraints.txt numpy matplotlib ipython
	touch $@

test: setup $(WHEELHOUSE)/.done
	$(BIN)/python -m pytest

# What students install: dist/pixelschool-<version>-py3-none-any.whl (no answer in it).
wheel: setup
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .

lab: setup
	$(BIN)/jupyter lab $(ALLOW_ROOT) --notebook-dir=.

build: setup
	$(BIN)/python -m pixelschool_admin build

check: setup
	$(BIN)/python -m pixelschool_admin check

$(GRADING): setup
	$(BIN)/python -m pixelschool_admin $@ --course $(COURSE) $(ARGS)

formgrader: setup
	cd $(COURSE) && $(abspath $(BIN))/jupyter lab $(ALLOW_ROOT) --ServerApp.default_url=/formgrader
