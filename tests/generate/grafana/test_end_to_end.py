"""Every dashboard query returns data from a real Prometheus, loaded with the generated rules and
scraping a real exporter that probes the demo API, with the variables set to All (`.*`) and to
the real values the variable queries find (which a filter on a wrong label would not match)."""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from exporter.config import parse_config
from exporter.demo.app import create_demo_app
from exporter.demo.faults import Faults
from exporter.demo.stack import answers, process
from exporter.generate.bundle import BundleOptions, build, write
from exporter.generate.prometheus import PrometheusOptions
from exporter.generate.rules.slo import DAYS_INTERVAL
from tests.generate.grafana.dashboards import PanelQuery, Variable, expand, load, queries, variables
from tests.servers import free_port, serve_app, wait_for

# Two tenants on two tiers, two revenue contexts, an alert that escalates in seconds.
CONFIG = """
contexts:
  zebra_opportunity:
    display_name: Zebra Associates opportunity
    revenue_at_risk: {amount: 925000, currency: GBP}
  revenue_critical:
    revenue_at_risk: {amount: 500000, currency: GBP}
tiers:
  enterprise: {availability: 99.9, latency: 500ms, error_rate: 0.5}
  professional: {availability: 99.5, latency: 750ms, error_rate: 1.5}
tenants:
  zebra_associates: {tier: enterprise}
  marketedge: {tier: professional}
alerts:
  zebra_admin_failure:
    severity: critical
    context: zebra_opportunity
    business_impact: Zebra Associates admin access failure
    recovery_sla: 30m
    escalation_time: 1s
    escalation_chain: [oncall_engineer, product_manager]
targets:
  - name: zebra_admin_access
    context: zebra_opportunity
    service: admin
    tenant: zebra_associates
    alert: zebra_admin_failure
    interval: 200ms
    timeout: 150ms
    http:
      url: API/api/v1/admin/feature-flags
      valid_status_codes: [200, 401, 403]
  - name: auth_login
    severity: critical
    context: revenue_critical
    service: auth
    tenant: marketedge
    interval: 200ms
    timeout: 150ms
    http:
      url: API/api/v1/auth/login
      method: POST
      json: {}
      valid_status_codes: [400, 401, 422]
"""


class Prometheus:
    def __init__(self, base: str) -> None:
        self.base = base

    def query(self, expr: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.base}/api/v1/query", params={"query": expr})
        assert response.status_code == 200, f"{expr}: {response.text}"
        result: list[dict[str, Any]] = response.json()["data"]["result"]
        return result

    def label_values(self, variable: Variable, values: dict[str, str]) -> list[str]:
        """What Grafana's label_values(selector, label) finds for the values chosen so far."""
        params = {"match[]": expand(variable.selector, values)}
        response = httpx.get(f"{self.base}/api/v1/label/{variable.label}/values", params=params)
        found: list[str] = response.json()["data"]
        return found


@pytest.fixture
def demo() -> Iterator[tuple[str, Faults]]:
    app = create_demo_app()
    with serve_app(app) as base:
        yield base, app.state.faults


@pytest.fixture
def stack(demo: tuple[str, Faults], tmp_path: Path) -> Iterator[tuple[Prometheus, dict[str, str]]]:
    """Prometheus with the bundle's rules, scraping an exporter: and the bundle's files."""
    binary = shutil.which("prometheus")
    assert binary, "prometheus is not on PATH: `make system-deps` installs the Debian package"
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.replace("API", demo[0]))
    exporter_port, prometheus_port = free_port(), free_port()
    options = PrometheusOptions(
        exporters=(f"127.0.0.1:{exporter_port}",),
        alertmanager=f"127.0.0.1:{free_port()}",  # nobody listens: alerts are read from Prometheus
        scrape_interval="1s",
        evaluation_interval="1s",
    )
    files = build(parse_config(config.read_text()), BundleOptions(options))
    write(_evaluated_every_second(files), tmp_path / "bundle")
    exporter = [sys.executable, "-m", "exporter", "serve", "--config", str(config)]
    exporter += ["--listen", options.exporters[0]]
    server = [binary, f"--config.file={tmp_path / 'bundle/prometheus/prometheus.yml'}"]
    server += [f"--storage.tsdb.path={tmp_path / 'data'}"]
    server += [f"--web.listen-address=127.0.0.1:{prometheus_port}"]
    with (
        process(exporter, tmp_path / "exporter.log"),
        process(server, tmp_path / "prometheus.log") as running,
    ):
        base = f"http://127.0.0.1:{prometheus_port}"
        wait_for(lambda: answers(f"{base}/-/ready") or running.poll() is not None, what="ready")
        assert running.poll() is None, (tmp_path / "prometheus.log").read_text()[-3000:]
        yield Prometheus(base), files


def _evaluated_every_second(files: dict[str, str]) -> dict[str, str]:
    """The day-long SLO groups run every 3m, and Prometheus first evaluates a group up to one
    interval after it starts: here they run every second (their windows still cover all the
    data there is, so they return data as they will after 30 days)."""
    path = "rules/slo.rules.yml"
    slow = f"interval: {DAYS_INTERVAL}\n"
    assert slow in files[path]
    return {**files, path: files[path].replace(slow, "interval: 1s\n")}


def _real_values(prometheus: Prometheus, board: dict[str, Any]) -> dict[str, str]:
    """Each variable set to every value its query finds, as Grafana writes a multi-value regex."""
    values: dict[str, str] = {}
    for variable in variables(board):
        found = prometheus.label_values(variable, values)
        assert found, f"variable {variable.name} finds no value"
        values[variable.name] = "(" + "|".join(re.escape(v) for v in found) + ")"
    return values


def _empty(prometheus: Prometheus, boards: dict[str, dict[str, Any]]) -> list[str]:
    """The queries that return nothing, each with the variable values it was run with."""
    empty = []
    for name, board in boards.items():
        settings = {"All": {v.name: ".*" for v in variables(board)}}
        settings["real values"] = _real_values(prometheus, board)
        for query in queries({name: board}):
            for setting, values in settings.items():
                if not prometheus.query(expand(query.expr, values)):
                    empty.append(f"{_where(query)} ({setting}): {query.expr}")
    return empty


def _where(query: PanelQuery) -> str:
    return f"{query.dashboard} / {query.panel}"


@pytest.mark.slow
def test_every_dashboard_query_returns_data_from_prometheus(
    demo: tuple[str, Faults], stack: tuple[Prometheus, dict[str, str]]
) -> None:
    _, faults = demo
    prometheus, files = stack
    boards = load(files)
    success = 'business_probe_last_success_timestamp_seconds{probe="zebra_admin_access"}'
    wait_for(lambda: prometheus.query(success), what="a scrape after a successful run")
    # A dropped router: failure reasons, revenue at risk and a firing, escalating alert.
    faults.drop("admin")
    missing = ["not run yet"]

    def all_answer() -> bool:
        missing[:] = _empty(prometheus, boards)
        return not missing

    try:
        wait_for(all_answer, timeout=30, what="every dashboard query to return data")
    except AssertionError:
        raise AssertionError("no data for:\n" + "\n".join(missing)) from None
