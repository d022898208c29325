"""The generated bundle in a real Prometheus, scraping a real exporter that probes the demo API."""

from __future__ import annotations

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
from tests.servers import free_port, serve_app, wait_for

CONFIG = """
contexts:
  zebra_opportunity: {revenue_at_risk: {amount: 925000, currency: GBP}}
  revenue_critical: {}
alerts:
  zebra_admin_failure:
    severity: critical
    context: zebra_opportunity
    business_impact: Zebra Associates admin access failure
    recovery_sla: 30m
    escalation_time: 2s
    escalation_chain: [oncall_engineer, product_manager]
    technical_message: "ZEBRA ADMIN FAILURE: {error_details}"
  auth_system_failure:
    severity: emergency
    context: revenue_critical
    business_impact: No user can log in
    recovery_sla: 10m
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
    context: revenue_critical
    service: auth
    tenant: marketedge
    alert: auth_system_failure
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

    def alerts(self, alertname: str) -> list[dict[str, Any]]:
        data = httpx.get(f"{self.base}/api/v1/alerts").json()["data"]["alerts"]
        return [a for a in data if a["labels"]["alertname"] == alertname]

    def firing(self, alertname: str, **labels: str) -> list[dict[str, Any]]:
        return [
            a
            for a in self.alerts(alertname)
            if a["state"] == "firing" and labels.items() <= a["labels"].items()
        ]

    def value(self, query: str) -> float | None:
        result = httpx.get(f"{self.base}/api/v1/query", params={"query": query}).json()
        samples = result["data"]["result"]
        return float(samples[0]["value"][1]) if samples else None


@pytest.fixture
def demo() -> Iterator[tuple[str, Faults]]:
    app = create_demo_app()
    with serve_app(app) as base:
        yield base, app.state.faults


@pytest.fixture
def prometheus(demo: tuple[str, Faults], tmp_path: Path) -> Iterator[Prometheus]:
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
    write(build(parse_config(config.read_text()), BundleOptions(options)), tmp_path / "bundle")
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
        yield Prometheus(base)


@pytest.mark.slow
def test_a_dropped_router_fires_its_alert_in_prometheus_and_escalates(
    demo: tuple[str, Faults], prometheus: Prometheus
) -> None:
    _, faults = demo
    wait_for(lambda: prometheus.firing("Watchdog"), what="the rules to be evaluated")
    healthy = 'business_probe_success{probe="zebra_admin_access"}'
    wait_for(lambda: prometheus.value(healthy) == 1, what="a successful scrape of the exporter")
    # The staleness alert's yardstick is exported, and a healthy exporter is neither stale nor down.
    assert prometheus.value('business_probe_interval_seconds{probe="zebra_admin_access"}') == 0.2
    for alertname in ("BusinessProbeStale", "BusinessExporterDown", "BusinessExporterAbsent"):
        assert prometheus.firing(alertname) == [], alertname  # (absent is pending at start)
    faults.drop("admin")
    try:
        wait_for(lambda: prometheus.firing("ZebraAdminFailure"), timeout=20, what="the alert")
        (alert,) = prometheus.firing("ZebraAdminFailure", escalation_level="0")
        assert {k: v for k, v in alert["labels"].items() if k != "instance"} == {
            "alertname": "ZebraAdminFailure",
            "probe": "zebra_admin_access",
            "kind": "http",
            "severity": "critical",
            "context": "zebra_opportunity",
            "priority": "P1",
            "escalation_level": "0",
            "escalate_to": "oncall_engineer",
            "tenant": "zebra_associates",
            "service": "admin",
            "job": "business_exporter",
        }
        annotations = alert["annotations"]
        assert annotations["technical_message"] == "ZEBRA ADMIN FAILURE: unexpected_status"
        assert annotations["revenue_at_risk"] == "925k GBP"
        assert annotations["recovery_sla"] == "30 minutes"
        wait_for(
            lambda: prometheus.firing("ZebraAdminFailure", escalate_to="product_manager"),
            timeout=20,
            what="escalation level 1",
        )
        assert prometheus.firing("AuthSystemFailure") == []
    finally:
        faults.restore("admin")
    wait_for(lambda: not prometheus.alerts("ZebraAdminFailure"), timeout=20, what="resolution")
