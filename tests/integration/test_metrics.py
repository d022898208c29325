"""The integration's series on the app's /metrics, read by promtool and a real scrape."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from exporter import conventions as c
from exporter.integration import AppHealth, Check
from tests.integration.apps import APP_ONLY_ROUTE, ROUTES, config_file, imported, release, running


async def _ok(request: Any) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def _fails() -> None:
    raise ConnectionRefusedError("connection refused")


async def _passes() -> None:
    return None


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_broken_release_exposes_each_missing_route_and_not_ready(tmp_path: Path) -> None:
    broken = release(tmp_path, broken=True)
    config = config_file(tmp_path, degrade=[*ROUTES, APP_ONLY_ROUTE])
    with imported(broken, "protected", config) as module, running(module.app) as started:
        values = samples(httpx.get(f"{started.url}/metrics").text)
    assert values[(c.APP_READY, ())] == 0
    for route in [*ROUTES, APP_ONLY_ROUTE]:
        labels = (("policy", "degrade"), ("route", route))
        assert values[(c.APP_ROUTE_REGISTERED, labels)] == 0
        startup = (("check", route), ("kind", "route"), ("policy", "degrade"))
        assert values[(c.APP_STARTUP_CHECK, startup)] == 0


def test_dependency_series_count_results_and_time_each_check() -> None:
    registry = CollectorRegistry()
    health = AppHealth(
        ["GET /orders"],
        checks=[
            Check("ledger", probe=_fails, policy="degrade"),
            Check("cache", probe=_passes, critical=False),
        ],
        recheck_interval=0.05,
        registry=registry,
    )
    app = Starlette(routes=[Route("/orders", _ok)])
    health.install(app)
    with running(app) as started:
        text = httpx.get(f"{started.url}/metrics").text
    values = samples(text)
    assert values[(c.APP_READY, ())] == 0  # the critical ledger is down
    ledger, cache = (
        (("check", "ledger"), ("kind", "custom")),
        (("check", "cache"), ("kind", "custom")),
    )
    assert values[(c.APP_DEPENDENCY_UP, (*ledger[:1], ("critical", "true"), *ledger[1:]))] == 0
    assert values[(c.APP_DEPENDENCY_UP, (*cache[:1], ("critical", "false"), *cache[1:]))] == 1
    assert values[(c.APP_STARTUP_CHECK, (*ledger, ("policy", "degrade")))] == 0
    assert values[(c.APP_STARTUP_CHECK, (*cache, ("policy", "fail_fast")))] == 1
    assert (
        values[(c.APP_ROUTE_REGISTERED, (("policy", "fail_fast"), ("route", "GET /orders")))] == 1
    )
    assert values[(c.APP_DEPENDENCY_DURATION, ledger)] >= 0
    failed = values[(c.APP_DEPENDENCY_CHECKS + "_total", (*ledger, ("result", "connect_error")))]
    passed = values[(c.APP_DEPENDENCY_CHECKS + "_total", (*cache, ("result", "success")))]
    assert failed >= 1
    assert passed >= 1


def test_promtool_accepts_the_exposition(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is not on PATH: `make system-deps` installs the prometheus package"
    fixed = release(tmp_path, broken=False)
    with imported(fixed, "protected", config_file(tmp_path)) as module, running(module.app) as app:
        text = httpx.get(f"{app.url}/metrics").text
    assert c.APP_ROUTE_REGISTERED in text
    done = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_series_join_the_registry_the_app_already_serves() -> None:
    """An app with its own metrics on a registry: ours go there too, one /metrics for both;
    an app built again (a factory, a test) replaces its series instead of clashing."""
    registry = CollectorRegistry()
    orders = Counter("shop_orders", "Orders taken.", registry=registry)
    orders.inc()
    for _ in range(2):
        health = AppHealth(["GET /orders"], registry=registry)
        health.install(Starlette(routes=[Route("/orders", _ok)]), metrics=None)
    assert registry.get_sample_value("shop_orders_total") == 1
    assert (
        registry.get_sample_value(
            c.APP_ROUTE_REGISTERED, {"route": "GET /orders", "policy": "fail_fast"}
        )
        == 1
    )


@pytest.mark.parametrize("path", ["/health/live", "/health/ready", "/health/detailed", "/metrics"])
def test_an_endpoint_left_out_is_not_served(path: str) -> None:
    health = AppHealth(["GET /orders"], registry=CollectorRegistry())
    app = Starlette(routes=[Route("/orders", _ok)])
    names = {"/health/live": "live", "/health/ready": "ready", "/health/detailed": "detailed"}
    health.install(app, **{names.get(path, "metrics"): None})
    with running(app) as started:
        assert httpx.get(f"{started.url}{path}").status_code == 404
        others = [p for p in names if p != path]
        assert all(httpx.get(f"{started.url}{p}").status_code == 200 for p in others)


def test_without_the_lifespan_the_app_is_never_ready() -> None:
    """A server that does not run the lifespan never validates: readiness must not pass."""
    health = AppHealth(["GET /orders"], registry=CollectorRegistry())
    app = Starlette(routes=[Route("/orders", _ok)])
    health.install(app)
    with running(app, lifespan="off") as started:
        ready = httpx.get(f"{started.url}/health/ready")
        assert ready.status_code == 503
        assert ready.json()["reasons"] == [
            "startup validation has not run: the server must run the lifespan"
        ]
        report = httpx.get(f"{started.url}/health/detailed").json()
        assert report["startup"]["outcome"] == "not_run"


def test_the_endpoints_come_before_a_catch_all_route() -> None:
    async def spa(request: Any) -> PlainTextResponse:
        return PlainTextResponse("<html>the single-page app</html>")

    health = AppHealth(["GET /orders"], registry=CollectorRegistry())
    app = Starlette(routes=[Route("/orders", _ok), Route("/{path:path}", spa)])
    health.install(app)
    with running(app) as started:
        assert httpx.get(f"{started.url}/health/ready").json()["status"] == "ready"
        assert "business_app_ready 1.0" in httpx.get(f"{started.url}/metrics").text
