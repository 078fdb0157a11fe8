# Vigil: two commands on a fresh machine (Python 3.11+, Java 17 for the test broker):
#   make up    — set up and run Vigil (embedded engine + gateway) on this machine
#   make test  — set up and run the whole test suite (starts its own Kafka broker)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CACHE := .cache
STAMP := $(VENV)/.installed
MODEL ?= $(CACHE)/models/tiny
PORT ?= 8080

.PHONY: setup up test test-unit lint bench clean kcat harm-artefact

# Re-install only when the dependency list or the pins change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Until the demo world lands, `make up` serves a tiny model built offline in seconds;
# MODEL=/path/to/model (or a hub id where the hub is reachable) serves a real one.
$(CACHE)/models/tiny/config.json: | $(STAMP)
	$(BIN)/python -m tests.tinymodel $(CACHE)/models/tiny

up: $(STAMP) $(if $(filter $(CACHE)/models/tiny,$(MODEL)),$(CACHE)/models/tiny/config.json)
	$(BIN)/vigil up --model $(MODEL) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .

# kcat is the independent Kafka client the event tests read topics with (Debian package).
kcat:
	@command -v kcat >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq kcat >/dev/null; }

test: $(STAMP) kcat lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not integration"

bench: $(STAMP)
	$(BIN)/python bench/gateway_overhead.py

# Rebuild the embedded harm classifier shipped in the package, reproducibly (n-grams only; add
# --encoder to `vigil judges train` for the fine-tuned encoder blend, see bench/README.md).
DATA ?= ../shared/data
harm-artefact: $(STAMP)
	$(BIN)/vigil judges train --threads 2 \
	  --data $(DATA)/advbench_harmful_behaviors.csv \
	  --data $(DATA)/harmbench_behaviors_text_val.csv \
	  --data $(DATA)/multijail.csv

clean:
	rm -rf $(VENV) $(CACHE) .pytest_cache .ruff_cache
