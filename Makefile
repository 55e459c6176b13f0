# One-line entry points for a fresh machine. Each target builds its own virtual environment
# (.venv) on first use; torch and torchvision are pinned in setup.cfg.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Where the datasets live (torchvision layout); override with `make demo GAN_MODELS_DATA=/path`.
GAN_MODELS_DATA ?= $(abspath ../shared/data)
export GAN_MODELS_DATA

.PHONY: demo test clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[dev]'
	touch $@

## demo: install, then build every network, write sample grids, and train briefly if data is found
demo: $(VENV)/.installed
	$(BIN)/gan-models demo --out runs/demo

## test: install, lint (ruff, configured in pyproject.toml), then run the test suite
test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) runs .pytest_cache
