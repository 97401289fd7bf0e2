# osint — every install step lives here, so `make demo` and `make test` work from a clean clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
# What WeasyPrint needs on a bare Debian, poppler-utils to read PDFs back, fonts for Latin,
# Cyrillic and CJK text, and chromium for the review desk's browser tests (Playwright drives
# the system browser; it never downloads one).
APT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils \
	fonts-noto-core fonts-dejavu-core fonts-wqy-zenhei chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.DEFAULT_GOAL := help
.PHONY: help setup system demo test lint eval eval-corpora bench bench-collect bench-hosts bench-desk clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F ':.*?## ' '{printf "  %-14s %s\n", $$1, $$2}'

system: ## Install the Debian packages WeasyPrint and the tests need (apt-get)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	$(MAKE) system
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*; touch $@

setup: $(STAMP) ## Create .venv and install osint with its dev tools

# COUNTRY=kazakhstan builds samples/kazakhstan instead of the default samples/demo (Mongolia).
COUNTRY ?=
demo: setup ## Serve the bundled sample corpus on 127.0.0.1, collect it, write the report to reports/ (COUNTRY=kazakhstan: that sample week)
	$(BIN)/python -m osint.demo $(COUNTRY)

# Third-party feed and page corpora (not in the repo); override with CORPORA=/path/to/corpora.
CORPORA ?= ../shared/corpora
eval-corpora: setup ## Feed normaliser and extractor over ../shared/corpora (CORPORA=dir), against eval/corpora_baseline.json
	@[ -f "$(CORPORA)/README.md" ] || { echo "eval-corpora: no corpora at $(CORPORA) (set CORPORA=/path/to/corpora)" >&2; exit 2; }
	$(BIN)/python -m eval.corpora --corpora "$(CORPORA)"

test: setup ## Lint, type-check and run the test suite
	$(BIN)/ruff check osint tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: setup ## ruff and mypy only
	$(BIN)/ruff check osint tests bench
	$(BIN)/ruff format --check osint tests bench || true
	$(BIN)/mypy

eval: setup ## Relevance, bucket and story-clustering figures on the labelled set, against the pinned baseline
	$(BIN)/python -m eval.sorting --check

bench: setup ## Benchmarks side by side with trafilatura, written to bench/results.md (PROFILE=1: cProfile summaries); the desk's to bench/results-desk.md
	$(BIN)/python -m bench.run $(if $(PROFILE),--profile)
	$(BIN)/python -m bench.desk

bench-desk: setup ## Only the review desk's speed (draft page and edit round trip, 2,000-item week), to bench/results-desk.md
	$(BIN)/python -m bench.desk

bench-collect: setup ## Only the collection benchmarks (osint collect vs trafilatura --feed), to bench/results-collect.md
	$(BIN)/python -m bench.run --only collect,hosts --out bench/results-collect.md

bench-hosts: setup ## Only issue 10's collection case (10 hosts x 100 pages, 50 ms; PROFILE=1), to bench/results-hosts.md
	$(BIN)/python -m bench.run --only hosts --repeat 1 $(if $(PROFILE),--profile) --out bench/results-hosts.md

clean: ## Remove the virtualenv, caches and generated reports
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache data/demo.db*
	find reports -mindepth 1 ! -name .gitkeep -delete
