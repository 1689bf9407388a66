# `make train` / `make test` set everything up on a fresh machine: a virtual environment in .venv
# with the tested versions pinned in constraints.txt, then the package in editable mode.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
ARGS ?=

PARALLEL ?= -n auto --dist loadscope  # pytest-xdist: one worker per core, each test module on one worker

.PHONY: install train test test-slow test-gpu lint format bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,search,slurm]"
	touch $(STAMP)

train: install  ## train the paper's MNIST model (pass overrides with ARGS="...")
	$(VENV)/bin/senn-train experiment=mnist $(ARGS)

test: install  ## the default test suite (under 3 minutes on 2 cores)
	$(VENV)/bin/pytest $(PARALLEL) $(ARGS)

test-slow: install  ## only the slow tests: real-data presets and the full senn-evaluate (needs SENN_DATA_DIR)
	$(VENV)/bin/pytest -m slow $(ARGS)

test-gpu: install  ## CUDA tests and CPU-against-CUDA comparisons, then GPU training throughput (CPU: says so, exits 0)
	$(VENV)/bin/pytest -m gpu -rs -p no:cacheprovider $(ARGS)
	@if $(PY) -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then \
	  $(PY) experiments/benchmarks/robustness_throughput.py --device cuda --variants none,projection,exact \
	    --steps 20 --rounds 3; \
	else echo "test-gpu: no CUDA GPU here: the CUDA halves above were skipped, and the GPU training throughput" \
	  "(samples/s of the mnist preset with none, projection and exact) is measured on a GPU machine"; fi

lint: install  ## ruff, the import contracts of pyproject.toml (layers, no cycles), no function in senn/ over 60 lines
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	@$(PY) -c "import ast, pathlib, sys; long = [f'{p}:{n.lineno} {n.name}: {n.end_lineno - n.lineno + 1} lines' \
	  for p in sorted(pathlib.Path('senn').rglob('*.py')) for n in ast.walk(ast.parse(p.read_text())) \
	  if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno >= 60]; \
	  print('functions over 60 lines (split them):', *long, sep='\n  ') if long else print('functions: none over 60 lines'); \
	  sys.exit(bool(long))"

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install  ## training throughput of every robustness estimator
	$(PY) experiments/benchmarks/robustness_throughput.py $(ARGS)

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache .ruff_cache
