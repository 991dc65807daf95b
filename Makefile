# The few verbs people type. Everything runs inside .venv, created on first use
# from pyproject.toml, so a machine with only python3 and make is enough.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# readable log lines for `make serve`; the service itself defaults to JSON lines
LOG_FORMAT ?= text

.PHONY: help install serve test soak bench lint format protos models report examples container-test clean
.DEFAULT_GOAL := help

help:  ## list the targets and what each does (from the comments in this file)
	@awk -F':.*## ' '/^[a-z-]+:.*## / {printf "  make %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/.installed: pyproject.toml requirements/test-no-deps.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# everything: serving (`pip install .` alone serves), training, the tests' tools
	$(BIN)/python -m pip install --quiet -e '.[train,dev]'
	# test-only: the real protocol clients, without the dependencies they declare (see the file)
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements/test-no-deps.txt
	touch $@

install: $(BIN)/.installed  ## create .venv and install the project into it (the targets that use it do this first)

serve: install  ## serve the committed models on http://127.0.0.1:8000 (HOST=, PORT= change it)
	LOG_FORMAT=$(LOG_FORMAT) $(BIN)/python -m service --host $(HOST) --port $(PORT)

test: install  ## the default test run (the README says how long it takes)
	$(BIN)/pytest

soak: install  ## 60 s at 256 connections on /predict/stock (not in `make test`); bench/results/soak.json
	$(BIN)/python scripts/soak.py

bench: install  ## req/s, p50/p99 of the service (REST and gRPC) vs bare FastAPI, its ceiling and a naive Keras server (loopback, ~7 min)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench

lint: install  ## ruff check and ruff format --check, as CI runs them
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install  ## fix what ruff can and reformat the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

protos: install  ## regenerate service/grpc/protos/*_pb2*.py from the .proto files there
	$(BIN)/python scripts/protos.py

models: install  ## retrain the three committed models (adds a new version of each)
	$(BIN)/python -m training all --out models

report: install  ## the README's quality table, from the committed models' metadata
	$(BIN)/python -m training.report models

examples: install  ## send every request the docs show to the app; rewrite the answers shown
	$(BIN)/python scripts/examples.py

container-test:  ## build the image, run it on 127.0.0.1 and check its answers (docker, else podman)
	scripts/container-test

clean:  ## remove .venv and the tools' caches
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
