# Everything a fresh clone needs: `make demo` and `make test` create the venv and install first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
export QT_QPA_PLATFORM ?= offscreen

.PHONY: help venv install test lint demo demo-site monitor record bench clean

help:
	@echo "make demo   - install, migrate, seed the demo user, run the demo site + monitor"
	@echo "make test   - install and run the whole suite headless (what .ci/run does)"
	@echo "make lint   - ruff + import-linter contracts"
	@echo "make bench  - run the benchmarks in bench/ (JSON on stdout)"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever pyproject.toml changes; the stamp keeps repeat runs fast.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

venv install: $(STAMP)

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest
	$(MAKE) --no-print-directory lint

lint: $(STAMP)
	$(BIN)/ruff check django_probe monitor_gui demo_site tests bench
	$(BIN)/lint-imports

# QT_QPA_PLATFORM=offscreen is exported above for the tests; the demo must open a real
# window, so it is dropped here unless the user set it in their environment.
demo: $(STAMP)
	$(if $(filter file,$(origin QT_QPA_PLATFORM)),env -u QT_QPA_PLATFORM) $(PY) -m demo_site demo

demo-site: $(STAMP)
	$(PY) -m demo_site setup
	$(PY) demo_site/manage.py runserver 127.0.0.1:8000 --noreload

monitor: $(STAMP)
	$(BIN)/signal-monitor

bench: $(STAMP)
	$(PY) bench/bench_probe.py
	$(PY) bench/bench_ingest.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
