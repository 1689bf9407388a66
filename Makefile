# `make train` / `make test` set everything up on a fresh machine: a virtual environment in .venv
# with the tested versions pinned in constraints.txt, then the package in editable mode.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
ARGS ?=

.PHONY: install train test test-slow lint format bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,search,slurm]"
	touch $(STAMP)

train: install  ## train the paper's MNIST model (pass overrides with ARGS="...")
	$(VENV)/bin/senn-train experiment=mnist $(ARGS)

test: install  ## the default test suite (a few minutes on 2 cores)
	$(VENV)/bin/pytest $(ARGS)

test-slow: install  ## only the slow tests: real-data presets and the full senn-evaluate (needs SENN_DATA_DIR)
	$(VENV)/bin/pytest -m slow $(ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install  ## training throughput of every robustness estimator
	$(PY) experiments/benchmarks/robustness_throughput.py $(ARGS)

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache .ruff_cache
