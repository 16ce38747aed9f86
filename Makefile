# smate-nb — two set-up commands, each self-sufficient on a fresh machine with Python 3.11 and pip:
#   make reproduce   the whole suite on the built-in data (cpu profile) → reports/cpu/
#   make test        unit tests + every notebook through nbval (smoke profile)
# plus: make lab (JupyterLab on the suite's kernel), make smoke (suite, smoke profile), make clean.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.smate-installed
PROFILE ?= cpu
JOBS   ?= 1
# parallel trainings per study notebook (exported to each kernel as SMATE_WORKERS; results do not depend on it)
WORKERS ?= $(shell nproc)

# CPU threads, chosen deliberately: on a busy 2-core machine two torch threads ran a training step 10–20×
# slower than one. One thread per process, and idle OpenMP workers sleep instead of spinning.
# Override e.g. `make reproduce SMATE_THREADS=4` on a quiet many-core machine.
export SMATE_THREADS ?= 1
export OMP_NUM_THREADS ?= $(SMATE_THREADS)
export OMP_WAIT_POLICY := PASSIVE
export PYTHONHASHSEED := 0

.PHONY: reproduce test lab smoke setup clean

setup: $(STAMP)

# Bootstrap: venv if missing → exact pins (requirements.txt; every transitive package pinned by
# constraints.txt) → the package in editable mode → a Jupyter kernel named smate-nb inside the venv.
$(STAMP): requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { echo "error: need Python 3.11 (found '$(PYTHON)'); run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --disable-pip-version-check -q --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name smate-nb --display-name "Python (smate-nb)" >/dev/null
	touch $(STAMP)

# Executes into reproduction/$(PROFILE)/ and compares every table with the committed reference reports/$(PROFILE)/
# (reproduction/$(PROFILE)/reproduction.md); `python -m smate_nb run --update-reference` refreshes the reference.
reproduce: $(STAMP)
	$(BIN)/python -m smate_nb run --profile $(PROFILE) --jobs $(JOBS) --workers $(WORKERS)

smoke: $(STAMP)
	$(BIN)/python -m smate_nb run --profile smoke

# nbval executes every notebook with its default (smoke) parameters; their outputs go to build/, not reports/.
# TEST_JOBS pytest-xdist workers (one process each, one torch thread): the notebooks in order on one of them, the
# test files spread over all (conftest.py). TEST_JOBS=0 runs everything in this one process, as before.
# At most 4: the notebooks are one unit of ≈ 145 s (serial, 2-core VM) that bounds the wall time at about 3 workers;
# more would only add processes that each import torch.
TEST_JOBS ?= $(shell n=$$(nproc); echo $$(( n < 4 ? n : 4 )))
test: $(STAMP)
	SMATE_REPORTS=$(CURDIR)/build/test-reports $(BIN)/python -m pytest -q tests notebooks --nbval-lax -p no:cacheprovider \
		-n $(TEST_JOBS)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

clean:
	rm -rf build reports/smoke .pytest_cache
