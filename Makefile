# Two commands on a fresh machine: `make demo` and `make test`.
# Everything lands in .venv at the repository root; nothing is downloaded outside
# PyPI, npm and Debian's packages.

PYTHON  ?= python3
UV_VERSION := 0.13.8
VENV    := .venv
BIN     := $(VENV)/bin
UV      := $(shell command -v uv 2>/dev/null || echo $(VENV)-tools/bin/uv)
VENDOR  := src/salescope/web/static/vendor
export UV_PYTHON := $(shell command -v $(PYTHON))
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: demo test lint typecheck unit bench docs setup assets browser clean

demo: setup
	$(BIN)/salescope demo $(DEMO_ARGS)

setup: $(VENV)/.installed assets

$(VENV)-tools/bin/uv:
	$(PYTHON) -m venv $(VENV)-tools
	$(VENV)-tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-groups --all-extras
	touch $@

assets: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/echarts/dist/echarts.min.js node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp node_modules/echarts/LICENSE $(VENDOR)/echarts.LICENSE
	touch $@

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -m "not browser and not spark and not slow" -q

test: setup browser lint typecheck
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python -m bench $(BENCH_ARGS)

docs: setup
	$(BIN)/python -m salescope.cli.docs > docs/cli.md

clean:
	rm -rf $(VENV) $(VENV)-tools node_modules $(VENDOR) .mypy_cache .ruff_cache .pytest_cache
