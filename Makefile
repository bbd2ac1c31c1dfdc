# tscl: `make demo` and `make test` set everything up from a fresh clone.
#
# Set-up (.venv), on each kind of machine:
# - torch already importable by $(PYTHON) (e.g. the CUDA build for your GPU): the
#   venv sees that installation (a .pth file) and pip is pinned to its version, so
#   it is kept, never replaced;
# - no torch: pip installs torch==2.13.0 (constraints.txt) from whatever pip is
#   configured to use: the public index (a CPU build on macOS, the default CUDA
#   build on Linux) or a local wheel folder that pip's configuration names.
# `make check-setup` resolves the same install with pip's configuration switched
# off (only the public index), so that a set-up that needs something only our
# machines have fails here and in CI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ISOLATED_PIP := env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_INDEX_URL \
	-u PIP_CONSTRAINT -u PIP_NO_INDEX PIP_CONFIG_FILE=/dev/null

.PHONY: demo test fuzz lint typecheck install check-setup clean gpu-check docs

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@if $(PYTHON) -c "import torch" 2>/dev/null; then \
		site=$$($(BIN)/python -c "import sysconfig; print(sysconfig.get_path('purelib'))"); \
		$(PYTHON) -c "import os, torch; print(os.path.dirname(os.path.dirname(torch.__file__)))" > "$$site/_tscl_user_torch.pth"; \
		$(PYTHON) -c "import torch; print('torch==' + torch.__version__)" > $(VENV)/torch-constraint.txt; \
		echo "Keeping the torch found by $(PYTHON): $$(cat $(VENV)/torch-constraint.txt)"; \
		$(BIN)/pip install --quiet -c $(VENV)/torch-constraint.txt -e ".[dev]"; \
	else \
		$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"; \
	fi
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/tscl demo

lint: $(STAMP)
	$(BIN)/ruff check tscl tests benchmarks examples docs/conf.py
	$(BIN)/ruff format --check tscl tests benchmarks examples docs/conf.py

typecheck: $(STAMP)
	$(BIN)/mypy

# Resolve the whole install against the public index only (no pip configuration,
# no local wheel folders); fails if the set-up needs a file only this machine has.
check-setup: $(STAMP)
	$(ISOLATED_PIP) $(BIN)/pip install --dry-run --ignore-installed --quiet \
		-c constraints.txt -e ".[dev,docs]"
	@echo "check-setup: the install resolves from the public index alone."

test: $(STAMP) lint typecheck check-setup
	TSCL_FUZZ= $(BIN)/pytest -q

# The fuzz suite's long profile: 10 times the examples of `make test`, drawn at
# random on each run (`make test` runs the same examples every time). CI runs it
# when TSCL_FUZZ=long is set in its environment.
fuzz: $(STAMP)
	TSCL_FUZZ=long $(BIN)/pytest -q tests/test_fuzz.py

# The documentation site: the guides (MyST markdown) and the API reference from the
# numpydoc docstrings, in docs/_build/html; any warning is an error.
docs: $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e ".[docs]"
	$(BIN)/sphinx-build -W --keep-going -q -b html -c docs . docs/_build/html
	@echo "docs: open docs/_build/html/docs/index.html"

# Every CUDA path on a one-GPU machine, under 8 minutes; results in GPU_CHECK_OUT.
# Without CUDA it prints one line and succeeds.
GPU_CHECK_OUT ?= gpu_check_results
gpu-check: $(STAMP)
	$(BIN)/python benchmarks/gpu_check.py $(GPU_CHECK_OUT)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
