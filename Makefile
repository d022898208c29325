# Two commands for a newcomer: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# docker-compose (1.29) only validates docker-compose.yml offline in the tests: no engine runs.
# kubectl builds and decodes the Kubernetes kit offline in the tests (no cluster runs). It is not
# listed: Debian does not package it, and these machines come with it.
# openssl runs deploy/web/init.sh; systemd brings systemd-analyze, which checks the unit offline.
# chromium prints the HTML SLA report to PDF in the tests, poppler-utils reads the PDF back;
# chromium-driver lets the tests of the pages drive it (selenium).
# libnss-wrapper resolves a test's own host names (tests/probes/test_http_ip.py: IPv4 and IPv6).
DEBIAN_PACKAGES := prometheus prometheus-alertmanager redis-server postgresql docker-compose \
	openssl systemd chromium chromium-driver poppler-utils libnss-wrapper
BENCH_PACKAGES := nginx-light prometheus-blackbox-exporter

.PHONY: demo test lint typecheck unit deps lock system-deps bench-deps bench bundle clean

# --fast: the reference config's probe intervals, escalation times and Alertmanager timings / 10,
# so that a fault is notified within about a minute. `make demo DEMO_ARGS=` keeps the reference timings.
DEMO_ARGS ?= --fast
demo: deps system-deps
	$(BIN)/business-exporter demo $(DEMO_ARGS)

test: deps system-deps lint typecheck unit

lint: deps
	$(BIN)/ruff check exporter tests bench
	$(BIN)/ruff format --check exporter tests bench

typecheck: deps
	$(BIN)/mypy exporter tests bench

unit: deps
	$(BIN)/pytest $(PYTEST_ARGS)

deps: $(STAMP)

# Python packages come from uv.lock, every one pinned with its hashes, so a fresh clone installs
# exactly what was tested; uv itself is pinned here. --inexact keeps uv and pip in the venv.
UV_VERSION := 0.13.9
UV := UV_PYTHON_DOWNLOADS=never $(BIN)/uv

$(STAMP): pyproject.toml uv.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(UV) sync --quiet --frozen --inexact --extra dev
	touch $@

# The newest versions pyproject.toml's ranges allow, written to uv.lock; then `make test`.
lock: $(STAMP)
	$(UV) lock --upgrade

# Installs the Debian packages the tests start for real, once, when apt is there.
system-deps:
	@./.ci/install-system-packages $(DEBIAN_PACKAGES)

bench-deps: deps
	@./.ci/install-system-packages $(BENCH_PACKAGES)

bench: bench-deps
	$(BIN)/python bench/probe_cost.py

# The committed bundle (prometheus/, rules/, alertmanager/, grafana/) from the reference config,
# what docker-compose.yml mounts besides (deploy/compose/) and the Kubernetes kit
# (deploy/kubernetes/); a test fails when any is stale. Generating reads no secret.
bundle: deps
	$(BIN)/business-exporter generate --config examples/marketedge.yaml --out .
	$(BIN)/python -m exporter.demo.compose
	$(BIN)/python -m exporter.generate.kubernetes.kit

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
