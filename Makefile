# Two commands from a fresh clone (see README.md):
#   make course   set up a virtual environment and open the course in JupyterLab
#   make test     set up the same environment (+ test tools) and run every test and notebook
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
JOBS   ?= 2

.PHONY: course notebook test lint exercises soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# Install once, and again only when pyproject.toml changes (the stamp files record it).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[test]'
	touch $@ $(VENV)/.installed

course: $(VENV)/.installed
	$(BIN)/nnlearn course

notebook: $(VENV)/.installed
	$(BIN)/nnlearn course --app notebook

test: $(VENV)/.installed-test
	NNLEARN_QUICK=1 $(BIN)/python -m pytest -n $(JOBS) --dist loadfile --durations=10

lint: $(VENV)/.installed-test
	$(BIN)/ruff check nnlearn tests benchmarks lessons solutions

exercises: $(VENV)/.installed
	$(BIN)/nnlearn make-exercises

# Headless execution of every lesson and solution, 20 times each (a script, not a test: long).
soak: $(VENV)/.installed-test
	$(BIN)/python benchmarks/soak_notebooks.py --runs 20 lessons/*.ipynb solutions/*.ipynb

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
