# backendkit developer commands. Two matter most:
#   make demo   - start the demo service (FastAPI example) on embedded defaults
#   make test   - every quality gate: lint, format, types, tests + coverage, docs
#                 (about 30 minutes on 2 cores once the environments exist)
# and one for the inner loop:
#   make unit   - the unit suite on the main Python (about a minute, no services)
# All create .venv on first use from pyproject.toml + constraints.txt.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# pyenv's shims answer `command -v` even for versions they will not run: prefer the
# interpreters themselves.
PY310 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10.*/bin/python) $(shell command -v python3.10))
PY313 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13.*/bin/python) $(shell command -v python3.13))
STAMP := $(VENV)/.installed

.PHONY: help venv demo test unit check-pythons lint typecheck pytest docs unit-other-pythons test-lowest bench bench-quick lock clean

help:
	@echo "make demo   - run the demo service on embedded defaults (SQLite, in-memory)"
	@echo "make test   - run every quality gate (ruff, mypy --strict, pytest + coverage, mkdocs --strict)"
	@echo "make unit   - the unit suite on the main Python only (the inner loop, about a minute)"
	@echo "make bench  - run the benchmarks against raw libraries and peers"
	@echo "make lock   - refresh constraints.txt from a fresh resolution"

# requirements-instrumentations.txt: the official OpenTelemetry instrumentations the
# tracing tests check against, in this venv only (not the lowest or other-Python ones).
$(STAMP): pyproject.toml constraints.txt requirements-instrumentations.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]' \
		-r requirements-instrumentations.txt
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m examples.fastapi_app.demo

lint: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks docs/snippets
	$(BIN)/ruff format --check src tests examples benchmarks docs/snippets
	$(BIN)/python scripts/check_duplicates.py src/backendkit/adapters

typecheck: $(STAMP)
	$(BIN)/mypy --strict src/backendkit

# The inner loop: the unit suite on the main Python, no services, no coverage.
unit: $(STAMP)
	BACKENDKIT_REQUIRE_INSTRUMENTATIONS=1 $(BIN)/python -m pytest -p no:cacheprovider -q -W error tests/unit $(PYTEST_ARGS)

pytest: $(STAMP)
	BACKENDKIT_REQUIRE_INSTRUMENTATIONS=1 $(BIN)/python -m pytest -p no:cacheprovider -W error \
		--cov=backendkit --cov-branch --cov-report=term --cov-fail-under=90 --durations=20 \
		$(PYTEST_ARGS)

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir build/site

# Python 3.10 and 3.13 are checked before anything else runs (see the script for CI and
# SKIP_OTHER_PYTHONS=1, which skips their legs outside CI).
check-pythons:
	@./scripts/check_pythons.sh "3.10=$(PY310)" "3.13=$(PY313)"

# The unit suite (no servers needed) on the oldest and newest supported Pythons.
unit-other-pythons: check-pythons $(STAMP)
ifeq ($(SKIP_OTHER_PYTHONS),1)
	@echo "unit-other-pythons: skipped (SKIP_OTHER_PYTHONS=1)"
else
	./scripts/unit_on_python.sh "$(PY310)" .venv-py310
	./scripts/unit_on_python.sh "$(PY313)" .venv-py313
endif

# The unit, adapter and integration suites at the lowest versions pyproject.toml allows
# (constraints-lowest.txt); deprecation warnings of those old releases are not ours.
test-lowest: $(STAMP)
	./scripts/unit_on_python.sh "$$(command -v $(PYTHON))" .venv-lowest constraints-lowest.txt \
		-W "ignore::DeprecationWarning" tests/unit tests/adapters tests/integration

# check-pythons first: a missing interpreter stops the run before the main suite.
# docs before pytest: the browser test reuses the site just built. The legs run one after
# another: side by side on two cores, the main suite took twice as long.
test: check-pythons lint typecheck docs pytest unit-other-pythons test-lowest
ifeq ($(SKIP_OTHER_PYTHONS),1)
	@echo "all quality gates passed, except the unit suite on Python 3.10 and 3.13 (skipped)"
else
	@echo "all quality gates passed"
endif

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run_all.py --quick

# Re-resolve every dependency at its newest allowed version and pin the result:
# constraints.txt for the main Python (3.11), constraints-py310.txt for 3.10, where
# several tools have dropped support in their newest releases.
lock:
	./scripts/lock.sh $(PYTHON) constraints.txt
	./scripts/lock.sh $(PY310) constraints-py310.txt
	./scripts/lock_lowest.sh $(PYTHON) constraints-lowest.txt
	@echo "constraints refreshed; run 'make test' and commit them"

clean:
	rm -rf build site .coverage .coverage.* .mypy_cache .ruff_cache .hypothesis
