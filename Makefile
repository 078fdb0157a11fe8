# Vigil: two commands on a fresh machine (Python 3.11+, Java 17 for the test broker):
#   make up    — set up and run the whole Vigil loop (engine, gateway, trainer) on this machine
#   make test  — set up and run the whole test suite (starts its own Kafka broker)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CACHE := .cache
STAMP := $(VENV)/.installed
MODEL ?= demo
DATA_DIR ?= vigil-data
PORT ?= 8080

.PHONY: setup up test test-unit lint bench clean kcat tools chart-schema harm-artefact

# Re-install only when the dependency list or the pins change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[trainer,test]'
	touch $(STAMP)

setup: $(STAMP)

# `make up` serves the demo model (built here once, a few minutes on a CPU, then cached);
# MODEL=/path/to/model (or a hub id where the hub is reachable) serves a real one.
up: $(STAMP)
	$(BIN)/vigil up --model $(MODEL) --port $(PORT) --data-dir $(DATA_DIR)

lint: $(STAMP)
	$(BIN)/ruff check .

# kcat is the independent Kafka client the event tests read topics with (Debian package).
kcat:
	@command -v kcat >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq kcat >/dev/null; }

# The chart's checks need helm (built from the Go module proxy: go is on the machine, the Helm
# project ships no Debian package) and promtool (Debian's prometheus package, unpacked: only the
# promtool binary is used and no Prometheus server is installed or started). Both go to
# .cache/bin; the tests find them there and fail, naming this target, when they are missing.
TOOLS := $(CACHE)/bin
HELM_VERSION := v3.22.0
# helm's own Makefile sets its version and default Kubernetes version (its client-go's, 1.37)
# at link time; without them `helm template` assumes Kubernetes 1.20.
HELM_LDFLAGS := -w -s -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37 \
  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37

$(TOOLS)/helm:
	@command -v go >/dev/null || { echo "go is needed to build helm" >&2; exit 1; }
	GOBIN=$(abspath $(TOOLS)) GOFLAGS=-buildvcs=false go install -trimpath -ldflags '$(HELM_LDFLAGS)' helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

$(TOOLS)/promtool:
	@mkdir -p $(TOOLS) && rm -rf $(CACHE)/prometheus-deb && mkdir -p $(CACHE)/prometheus-deb
	cd $(CACHE)/prometheus-deb && { apt-get download prometheus 2>/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get update -qq && apt-get download prometheus; }; }
	dpkg-deb -x $(CACHE)/prometheus-deb/prometheus_*.deb $(CACHE)/prometheus-deb/root
	install -m 0755 $(CACHE)/prometheus-deb/root/usr/bin/promtool $(TOOLS)/promtool
	rm -rf $(CACHE)/prometheus-deb

tools: $(TOOLS)/helm $(TOOLS)/promtool

# values.schema.json's `config` and `policy` parts come from the settings models.
chart-schema: $(STAMP)
	$(BIN)/python scripts/helm_schema.py

test: $(STAMP) kcat tools lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not integration"

bench: $(STAMP)
	$(BIN)/python bench/gateway_overhead.py

# Rebuild the embedded harm classifier shipped in the package, reproducibly, from the sources of
# data/judges/manifest.json (each checked against its SHA-256 and counts): the project's corpus beside it, the
# public sets in $(DATA) and those prepared by scripts/judge_data/ in $(DATA)/judges. Rows
# near-duplicating an XSTest part A prompt or a sentence of the identity regression set are
# dropped (both are measured, never trained on). It fine-tunes the encoder: about an hour on
# 2 cores (bench/README.md records the machine and time), checkpointed in .cache/judges/build,
# so a stopped build run again resumes. A build, not a test: CI never runs it.
DATA ?= ../shared/data
harm-artefact: $(STAMP)
	$(BIN)/vigil judges train --threads 2 --data-dir $(DATA) --exclude $(DATA)/xstest_part_a.csv \
	  --exclude jsonl=tests/data/identity_mentions.jsonl

clean:
	rm -rf $(VENV) $(CACHE) .pytest_cache .ruff_cache
