# One-line entry points for a fresh machine. Each target builds its own virtual environment
# (.venv) on first use; torch and torchvision are pinned in setup.cfg.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Where the datasets live (torchvision layout); override with `make demo GAN_MODELS_DATA=/path`.
GAN_MODELS_DATA ?= $(abspath ../shared/data)
export GAN_MODELS_DATA

# The browser test drives Debian's chromium with chromium-driver; installed once, when missing (root or sudo).
CHROMIUM := /usr/bin/chromium /usr/bin/chromedriver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# onnxruntime-web, pinned by web/package-lock.json, for `gan-models export --web` and the browser test.
ORT_WEB := web/node_modules/.package-lock.json

.PHONY: demo test web clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[dev]'
	touch $@

$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver

$(ORT_WEB): web/package.json web/package-lock.json
	npm ci --prefix web --no-audit --no-fund
	touch $@

## web: install onnxruntime-web (npm), which `gan-models export --web DIR` copies into the page
web: $(ORT_WEB)

## demo: install, then build every network, write sample grids, and train briefly if data is found
demo: $(VENV)/.installed
	$(BIN)/gan-models demo --out runs/demo

## test: install (with chromium and onnxruntime-web for the browser test), lint (ruff), run the test suite
test: $(VENV)/.installed $(CHROMIUM) $(ORT_WEB)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) runs .pytest_cache web/node_modules
