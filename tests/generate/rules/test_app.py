"""The in-app alerts: generated with an `app:` block, tested by promtool, and fired by a real
Prometheus scraping a real app that runs the integration."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from exporter import conventions as c
from exporter.config import parse_config
from exporter.demo.stack import answers, process
from exporter.generate.alertmanager.routing_cases import routing_cases
from exporter.generate.bundle import BundleOptions, build, write
from exporter.generate.prometheus import APP_JOB, PrometheusOptions
from exporter.integration import AppHealth, Check
from tests.generate.test_prometheus_end_to_end import Prometheus
from tests.integration.apps import running
from tests.servers import free_port, wait_for

CONFIG = """
contexts:
  revenue_critical: {}
targets:
  - name: api_route_registration
    severity: critical
    context: revenue_critical
    service: api
    openapi:
      url: http://127.0.0.1:8000/openapi.json
      routes: [POST /api/v1/auth/login, GET /api/v1/admin/feature-flags]
"""
APP = "app:\n  degrade: [GET /api/v1/admin/feature-flags]\n"


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool is not on PATH: `make system-deps` installs the prometheus package"
    return path


def test_only_a_config_with_an_app_block_gets_the_app_alerts() -> None:
    without = build(parse_config(CONFIG))
    assert "rules/app.rules.yml" not in without
    assert not [case for case in routing_cases(parse_config(CONFIG)) if "BusinessApp" in case.name]
    files = build(parse_config(CONFIG + APP))
    assert "rules/app.rules.yml" in files
    assert "rules/tests/app.test.yml" in files
    names = [case.name for case in routing_cases(parse_config(CONFIG + APP))]
    assert [name for name in names if name.startswith("BusinessApp")] == list(c.APP_ALERT_NAMES)


def test_the_alerts_carry_the_app_context_or_the_operational_one() -> None:
    default = build(parse_config(CONFIG + APP))["rules/app.rules.yml"]
    assert "context: operational" in default
    given = build(parse_config(CONFIG + APP + "  context: revenue_critical\n"))
    assert "context: revenue_critical" in given["rules/app.rules.yml"]


@pytest.mark.parametrize(
    ("rule", "broken"),
    [
        ("business_app_route_registered == 0", "business_app_route_registered == 1"),
        ('{kind!="route"}', ""),  # the startup alert would page for routes too
        ("unless on (job, instance, check) business_app_dependency_up == 1", "or vector(0) == 1"),
        ("unless on (job, instance, check) business_app_startup_check_success == 0", "> 1"),
        ("for: 1m", "for: 0s"),
    ],
)
def test_the_generated_tests_catch_a_broken_rule(
    promtool: str, tmp_path: Path, rule: str, broken: str
) -> None:
    write(build(parse_config(CONFIG + APP)), tmp_path)
    tests = tmp_path / "rules" / "tests" / "app.test.yml"
    passed = subprocess.run([promtool, "test", "rules", str(tests)], capture_output=True)
    assert passed.returncode == 0, passed.stdout
    rules = tmp_path / "rules" / "app.rules.yml"
    assert rule in rules.read_text()
    rules.write_text(rules.read_text().replace(rule, broken))
    failed = subprocess.run([promtool, "test", "rules", str(tests)], capture_output=True)
    assert failed.returncode == 1, failed.stdout


class Toggle:
    """A dependency the test turns up and down."""

    def __init__(self) -> None:
        self.up = False

    async def __call__(self) -> None:
        if not self.up:
            raise ConnectionRefusedError("connection refused")


async def _ok(request: Any) -> PlainTextResponse:
    return PlainTextResponse("ok")


@pytest.fixture
def ledger() -> Toggle:
    return Toggle()


@pytest.fixture
def prometheus(ledger: Toggle, tmp_path: Path) -> Iterator[Prometheus]:
    """A real Prometheus on the generated prometheus.yml and app rules, scraping a degraded
    app every second through the job `generate --app` adds: its admin route is missing and
    its ledger was down at startup."""
    binary = shutil.which("prometheus")
    assert binary, "prometheus is not on PATH: `make system-deps` installs the Debian package"
    health = AppHealth(
        ["POST /api/v1/auth/login", "GET /api/v1/admin/feature-flags"],
        degrade_routes=["GET /api/v1/admin/feature-flags"],
        checks=[Check("ledger", probe=ledger, policy="degrade")],
        recheck_interval=0.2,
        registry=CollectorRegistry(),
    )
    app = Starlette(routes=[Route("/api/v1/auth/login", _ok, methods=["POST"])])
    health.install(app)
    with running(app) as started:
        options = PrometheusOptions(
            exporters=(f"127.0.0.1:{free_port()}",),  # nobody listens: only the app counts
            alertmanager=f"127.0.0.1:{free_port()}",
            scrape_interval="1s",
            evaluation_interval="1s",
            apps=(started.url.removeprefix("http://"),),
        )
        write(build(parse_config(CONFIG + APP), BundleOptions(options)), tmp_path / "bundle")
        config = tmp_path / "bundle" / "prometheus" / "prometheus.yml"
        port = free_port()
        server = [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}"]
        server += [f"--web.listen-address=127.0.0.1:{port}"]
        with process(server, tmp_path / "prometheus.log") as running_prometheus:
            base = f"http://127.0.0.1:{port}"
            wait_for(
                lambda: answers(f"{base}/-/ready") or running_prometheus.poll() is not None,
                what="Prometheus to be ready",
            )
            assert running_prometheus.poll() is None, (tmp_path / "prometheus.log").read_text()
            yield Prometheus(base)


@pytest.mark.slow
def test_a_real_prometheus_fires_the_app_alerts_on_the_app_series(
    prometheus: Prometheus, ledger: Toggle
) -> None:
    wait_for(lambda: prometheus.firing(c.ALERT_APP_ROUTE_MISSING), timeout=20, what="route missing")
    (missing,) = prometheus.firing(c.ALERT_APP_ROUTE_MISSING)
    assert missing["labels"]["route"] == "GET /api/v1/admin/feature-flags"
    assert missing["labels"]["job"] == APP_JOB
    assert missing["annotations"]["summary"].startswith(
        "Route GET /api/v1/admin/feature-flags is not registered in 127.0.0.1:"
    )
    wait_for(
        lambda: prometheus.firing(c.ALERT_APP_STARTUP_FAILED), timeout=20, what="startup failed"
    )
    (startup,) = prometheus.firing(c.ALERT_APP_STARTUP_FAILED)
    assert (startup["labels"]["check"], startup["labels"]["kind"]) == ("ledger", "custom")
    ledger.up = True  # the fix: the alert resolves, and no dependency alert follows
    wait_for(
        lambda: not prometheus.alerts(c.ALERT_APP_STARTUP_FAILED), timeout=20, what="resolution"
    )
    assert prometheus.alerts(c.ALERT_APP_DEPENDENCY_DOWN) == []
