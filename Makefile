# paycon — every target creates .venv and installs what it needs on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint fuzz chaos bench mutate install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

# The console (on a terminal) over the service, with demo payments and changing gateway faults;
# notify_urls on this machine (http, loopback) are allowed, as local development needs.
run: $(STAMP)
	PAYCON_NOTIFY_ALLOW_PRIVATE=1 $(BIN)/paycon run --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

# The fuzz test of `make test` (tests/fuzz) with a larger budget: FUZZ_MAX_EXAMPLES cases per
# operation and phase, FUZZ_SEED to repeat a run.
FUZZ_MAX_EXAMPLES ?= 150
fuzz: $(STAMP)
	FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) FUZZ_TIMEOUT_S=1800 $(BIN)/pytest tests/fuzz -p no:randomly -v -rP

# paycon SIGKILLed under load while the mock gateways misbehave, then checked against their
# ledger (python -m tests.chaos --help). CHAOS_ARGS="--seed N" repeats a run.
CHAOS_ARGS ?=
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos $(CHAOS_ARGS)

bench: $(STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache

# Mutation testing (not part of `make test`): each area's code mutated one change at a time,
# against the tests that cover it; MUTATE_PATHS="paycon/domain" runs one area or module.
MUTATE_PATHS ?=
mutate: $(STAMP)
	$(BIN)/python -m tests.mutation $(MUTATE_PATHS)
