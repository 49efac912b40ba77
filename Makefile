# Two commands from a fresh clone (see README.md):
#   make course   set up a virtual environment and open the course in JupyterLab
#   make test     set up the same environment (+ test tools) and run every test and notebook
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
JOBS   ?= 2
# Jupyter refuses to run as root (e.g. in a container) unless told that it is on purpose.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: course test setup setup-test lint exercises clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

setup: $(BIN)/python
	$(BIN)/python -m pip install -e .

setup-test: $(BIN)/python
	$(BIN)/python -m pip install -e '.[test]'

course: setup
	$(BIN)/jupyter lab $(ROOT_FLAG) lessons/01_perceptron.ipynb

# One BLAS thread per worker: the $(JOBS) workers already fill the cores, and OpenBLAS threads that
# compete for a busy core spin instead of working (lesson 06 in quick mode: 327 s with 2 threads,
# 31-75 s with 1, on a loaded 2-core machine).
test: setup-test
	NNLEARN_QUICK=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest -n $(JOBS) --dist loadfile

lint: setup-test
	$(BIN)/ruff check nnlearn tests benchmarks lessons solutions

exercises: setup
	$(BIN)/nnlearn make-exercises

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
