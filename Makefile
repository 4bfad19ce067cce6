# Two commands matter: `make publish` builds the example publication into feeds/,
# `make test` runs the whole test suite. Each sets up the virtualenv it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: publish build check test lint bench compare fuzz fuzz-images clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "syndicate needs Python >= 3.11 (set PYTHON=python3.x)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	@$(BIN)/python -m pip uninstall --quiet --yes syndicate 2>/dev/null || true
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

# Besides the test tools: the wheels syndicate depends on, in $(VENV)/wheelhouse, so that
# tests/test_packaging.py installs the built wheel into a fresh virtualenv with no index.
WHEELHOUSE := $(VENV)/wheelhouse
$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	@# The distribution was called "syndicate" before 0.1.0: an old virtualenv may hold it.
	@$(BIN)/python -m pip uninstall --quiet --yes syndicate 2>/dev/null || true
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -rf $(WHEELHOUSE) && mkdir -p $(WHEELHOUSE)
	$(BIN)/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"], sep="\n")' > $(WHEELHOUSE)/requirements.txt
	$(BIN)/python -m pip wheel --quiet --wheel-dir $(WHEELHOUSE) -r $(WHEELHOUSE)/requirements.txt
	@echo "The wheels of syndicate's dependencies, for tests/test_packaging.py" > $(WHEELHOUSE)/README
	@touch $@ $(VENV)/.run-deps

publish: $(VENV)/.run-deps
	$(BIN)/syndicate publish

build: $(VENV)/.run-deps
	$(BIN)/syndicate build

check: $(VENV)/.run-deps
	$(BIN)/syndicate check

lint: $(VENV)/.test-deps
	$(BIN)/ruff check src tests benchmarks fuzz
	$(BIN)/mypy

# The browser tests drive Debian's Chromium; install it through apt-get where it is missing.
.PHONY: chromium
chromium:
	@bash scripts/ensure-chromium

# The list service's tests start a PostgreSQL cluster of their own from Debian's programs.
.PHONY: postgresql
postgresql:
	@bash scripts/ensure-postgresql

test: lint chromium postgresql
	@bash scripts/ensure-checkers
	@bash scripts/ensure-fribidi $(BIN)/python
	$(BIN)/python -m pytest

bench: $(VENV)/.run-deps
	$(BIN)/python benchmarks/run.py

# Issue 27's performance targets in one run: syndicate against Hugo, Pelican and
# mkdocs-material on the same corpora (about half an hour on 2 cores; a quiet machine
# only), its section of benchmarks/RESULTS.md rewritten. Hugo and Pelican come from the
# bench extra; compare.py puts mkdocs-material into a virtualenv of its own
# ($(VENV)/mkdocs-material), whose cards need Debian's libcairo2. The corpora and the
# generated photos stay in benchmarks/work/ (git ignores it) for the next run.
COMPARE_ARGS ?= --workdir benchmarks/work --output benchmarks/RESULTS.md
$(VENV)/.bench-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@touch $@ $(VENV)/.run-deps

compare: $(VENV)/.bench-deps
	@ldconfig -p | grep -q 'libcairo\.so\.2' || apt-get install -y -qq libcairo2
	$(BIN)/python benchmarks/compare.py $(COMPARE_ARGS)

# Coverage-guided fuzzing of the article loader and renderer (10 minutes).
fuzz: $(VENV)/.test-deps
	$(BIN)/python -m pip install --quiet atheris
	$(BIN)/python fuzz/fuzz_article.py fuzz/corpus -max_total_time=600 -max_len=8192

# Coverage-guided fuzzing of every reader of an article's image: the card's backdrop and
# logo, the email's conversion (10 minutes; the seed images are made on the first run).
fuzz-images: $(VENV)/.test-deps
	$(BIN)/python -m pip install --quiet atheris
	$(BIN)/python fuzz/fuzz_images.py fuzz/corpus-images -max_total_time=600 -max_len=65536

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist .syndicate/cache
