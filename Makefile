# Everything a fresh clone needs: `make demo` and `make test` create the venv and install first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
export QT_QPA_PLATFORM ?= offscreen

.PHONY: help venv install test test-compat lint demo demo-site monitor record bench clean

help:
	@echo "make demo   - install, migrate, seed the demo user, run the demo site + monitor"
	@echo "make test   - install and run the whole suite headless (what .ci/run does)"
	@echo "make lint   - ruff + import-linter contracts"
	@echo "make bench  - run the benchmarks in bench/ (JSON on stdout)"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall (and rebuild the C accelerators) whenever pyproject.toml or their sources
# change; the stamp keeps repeat runs fast.
$(STAMP): pyproject.toml monitor_gui/core/_colframe.c django_probe/_accel.c | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

venv install: $(STAMP)

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest
	@echo "The probe's tests again on its pure-Python hot path (the C accelerator is optional):"
	SIGNAL_PROBE_NO_ACCEL=1 $(PY) -m pytest tests/django_probe -q -p no:qt
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-compat

# The probe mirrors Django's private dispatch code, so its tests also run against the
# oldest supported Django (4.2, on this Python) and the newest (6.x, which needs
# Python >= 3.12: used when python3.12 or newer is on PATH, skipped with a notice if not).
# Only the probe's own dependencies are installed there (no Qt).
COMPAT_DEPS := pyzmq msgpack msgspec numpy pytest pytest-django pytest-timeout hypothesis
COMPAT_PYTEST := -m pytest -q -p no:qt -p no:cacheprovider \
	-o addopts="" -W ignore::pytest.PytestConfigWarning
# Ask each candidate to run: a pyenv shim is on PATH even when that version is not installed.
# pyenv's shims exist even when that version is not selected, so each candidate must run;
# installed pyenv versions are tried directly as well.
PY312 := $(shell for p in python3.13 python3.12 $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3; \
	do $$p -c '' 2>/dev/null && command -v $$p && break; done)

.venv-django42/.installed: Makefile
	$(PYTHON) -m venv .venv-django42
	.venv-django42/bin/python -m pip install --quiet "Django>=4.2,<4.3" $(COMPAT_DEPS)
	@touch $@

.venv-django6/.installed: Makefile
	$(PY312) -m venv .venv-django6
	.venv-django6/bin/python -m pip install --quiet "Django>=6.0,<7" $(COMPAT_DEPS)
	@touch $@

# The C accelerators built for that Python too (in place, beside the main venv's), so
# their code for Python 3.12+ is what the 6.x tests run; rebuilt when a source changes.
.venv-django6/.accel: .venv-django6/.installed pyproject.toml django_probe/_accel.c \
		monitor_gui/core/_colframe.c
	.venv-django6/bin/python -m pip install --quiet --no-deps -e .
	@touch $@

# The demo site too: these tests run here, but start the site (and its probe) with the
# other venv's Python, over real HTTP and ZeroMQ.
DEMO_COMPAT := QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider \
	tests/demo_site/test_accounts.py tests/demo_site/test_articles.py \
	tests/demo_site/test_seed.py tests/demo_site/test_settings.py tests/e2e/test_login_events.py \
	"tests/e2e/test_article_events.py::test_publish_edit_delete_article[wsgi]"

test-compat: $(STAMP) .venv-django42/.installed $(if $(PY312),.venv-django6/.accel)
	.venv-django42/bin/python $(COMPAT_PYTEST) tests/django_probe
	DEMO_SITE_PYTHON=$(CURDIR)/.venv-django42/bin/python $(DEMO_COMPAT)
ifneq ($(PY312),)
	.venv-django6/bin/python $(COMPAT_PYTEST) tests/django_probe tests/test_accelerators.py
	DEMO_SITE_PYTHON=$(CURDIR)/.venv-django6/bin/python $(DEMO_COMPAT)
else
	@echo "test-compat: no python3.12+ found, Django 6.x probe tests skipped"
endif

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
	@if command -v valgrind >/dev/null; then $(PY) bench/bench_probe_instructions.py; \
	else echo "valgrind not installed: skipping bench/bench_probe_instructions.py"; fi

clean:
	rm -rf $(VENV) .venv-django42 .venv-django6 build *.egg-info .pytest_cache
