# Everything a fresh clone needs: `make demo` and `make test` create the venv and install first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
export QT_QPA_PLATFORM ?= offscreen

.PHONY: help venv install test test-compat wheel wheel-smoke lint demo demo-site monitor record \
	bench clean

help:
	@echo "make demo   - install, migrate, seed the demo user, run the demo site + monitor"
	@echo "make test   - install and run the whole suite headless, the wheel's smoke test and"
	@echo "              the probe's Python x Django matrix (what .ci/run does)"
	@echo "make wheel  - build the universal wheel into dist/"
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
	$(MAKE) --no-print-directory wheel-smoke
	$(MAKE) --no-print-directory test-compat

# ---------------------------------------------------------------- the universal wheel
# One py3-none-any wheel (no C of our own). Rebuilt when a packaged file changes, or a
# package directory (a file added or deleted); build/ goes first, or setuptools would ship
# files deleted since the last build.
WHEEL_SOURCES := pyproject.toml README.md $(shell find django_probe monitor_gui demo_site \
	-name __pycache__ -prune -o -type d -print -o \( -name '*.py' -o -name '*.html' \
	-o -name '*.css' -o -name '*.txt' -o -name py.typed \) -print 2>/dev/null)
WHEEL_VENV := .venv-wheel

dist/.built: $(WHEEL_SOURCES) | $(STAMP)
	rm -rf build dist/django_signal_monitor-*.whl
	$(PY) -m pip wheel --quiet --no-deps -w dist .
	@touch $@

wheel: dist/.built

# The wheel with [all] in a venv made from scratch, then tests/smoke_wheel.py (probe to
# monitor, one event over ZeroMQ) run from a temporary directory, so that the installed
# packages are imported, not the checkout's.
$(WHEEL_VENV)/.smoked: dist/.built tests/smoke_wheel.py
	rm -rf $(WHEEL_VENV)
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(WHEEL_VENV)/bin/python -m pip install --quiet \
		"$$(ls dist/django_signal_monitor-*-py3-none-any.whl)[all]"
	tmp=$$(mktemp -d) && cp tests/smoke_wheel.py $$tmp/ && cd $$tmp && \
		$(CURDIR)/$(WHEEL_VENV)/bin/python smoke_wheel.py && cd / && rm -rf $$tmp
	@touch $@

wheel-smoke: $(WHEEL_VENV)/.smoked

# ---------------------------------------------------------------- Python x Django matrix
# The probe mirrors Django's private dispatch code, so its tests run on every supported
# Python with every Django it supports among 4.2, 5.2 and 6.0: one venv per cell,
# .venv-py310-dj42/ etc., with only the probe's own dependencies (no Qt). A cell whose
# Python is not found is skipped with a notice. Each candidate interpreter must run: a
# pyenv shim is on PATH even for a version that is not selected; installed pyenv versions
# are tried directly as well.
COMPAT_DEPS := pyzmq msgpack msgspec numpy pytest pytest-django pytest-timeout hypothesis \
	freezegun time-machine
COMPAT_PYTEST := -m pytest -q -p no:qt -p no:cacheprovider \
	-o addopts="" -W ignore::pytest.PytestConfigWarning
find_python = $(shell for p in python$(1) $(HOME)/.pyenv/versions/$(1).*/bin/python3; \
	do $$p -c '' 2>/dev/null && command -v $$p && break; done)
PYTHON_py310 := $(call find_python,3.10)
PYTHON_py311 := $(call find_python,3.11)
PYTHON_py312 := $(call find_python,3.12)
PYTHON_py313 := $(call find_python,3.13)
DJANGO_dj42 := Django>=4.2,<4.3
DJANGO_dj52 := Django>=5.2,<5.3
DJANGO_dj60 := Django>=6.0,<6.1
# Django 4.2 supports Python <= 3.12; 5.2 supports 3.10-3.13; 6.0 needs >= 3.12.
COMPAT_CELLS := py310-dj42 py310-dj52 py311-dj42 py311-dj52 py312-dj42 py312-dj52 \
	py312-dj60 py313-dj52 py313-dj60
# The oldest and the newest cell also serve the demo site to these tests (run here, with
# the main venv, starting the site and its probe with the cell's Python over real HTTP
# and ZeroMQ).
DEMO_CELLS := py310-dj42 py313-dj60
DEMO_COMPAT := QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider \
	tests/demo_site/test_accounts.py tests/demo_site/test_articles.py \
	tests/demo_site/test_seed.py tests/demo_site/test_settings.py tests/e2e/test_login_events.py \
	"tests/e2e/test_article_events.py::test_publish_edit_delete_article[wsgi]"

# compat_cell(cell, python, django): the cell's venv (made once, dependencies refreshed
# when this Makefile changes) and its test run.
define compat_cell
.venv-$(1)/.installed: Makefile
	test -x .venv-$(1)/bin/python || $$(PYTHON_$(2)) -m venv .venv-$(1)
	.venv-$(1)/bin/python -m pip install --quiet "$$(DJANGO_$(3))" $$(COMPAT_DEPS)
	@touch $$@

.PHONY: test-compat-$(1)
ifeq ($$(PYTHON_$(2)),)
test-compat-$(1):
	@echo "test-compat: SKIPPED $(1): no Python $(subst py3,3.,$(2)) found (PATH or pyenv)"
else
test-compat-$(1): $(STAMP) .venv-$(1)/.installed
	@echo "test-compat: $(1) ($$$$(.venv-$(1)/bin/python -c 'import sys, django; \
		print(sys.version.split()[0], "Django", django.__version__)'))"
	.venv-$(1)/bin/python $$(COMPAT_PYTEST) tests/django_probe
	$$(if $$(filter $(1),$$(DEMO_CELLS)),DEMO_SITE_PYTHON=$$(CURDIR)/.venv-$(1)/bin/python \
		$$(DEMO_COMPAT))
endif
endef
$(foreach cell,$(COMPAT_CELLS),$(eval $(call compat_cell,$(cell),$(word 1,$(subst -, ,$(cell))),$(word 2,$(subst -, ,$(cell))))))

test-compat: $(addprefix test-compat-,$(COMPAT_CELLS))

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
	$(if $(filter file,$(origin QT_QPA_PLATFORM)),env -u QT_QPA_PLATFORM) $(BIN)/signal-monitor

bench: $(STAMP)
	$(PY) bench/bench_probe.py
	$(PY) bench/bench_ingest.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/bench_gui.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/bench_scale.py
	@if command -v valgrind >/dev/null; then $(PY) bench/bench_probe_instructions.py; \
	else echo "valgrind not installed: skipping bench/bench_probe_instructions.py"; fi

clean:
	rm -rf $(VENV) $(addprefix .venv-,$(COMPAT_CELLS)) $(WHEEL_VENV) build dist *.egg-info \
		.pytest_cache
