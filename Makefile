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

test: setup-test
	@command -v bwrap >/dev/null || echo "NOTE: bubblewrap (bwrap) is missing, so the grader's sandbox tests are skipped. Install it: sudo apt-get install bubblewrap (Debian/Ubuntu), sudo dnf install bubblewrap (Fedora), sudo pacman -S bubblewrap (Arch)."
	NNLEARN_QUICK=1 $(BIN)/python -m pytest -n $(JOBS) --dist loadfile

lint: setup-test
	$(BIN)/ruff check nnlearn tests benchmarks lessons solutions

exercises: setup
	$(BIN)/nnlearn make-exercises

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
