"""A live scene for the pages: real targets that fail, an exporter probing them, a real
Alertmanager holding alerts for them, and Debian's Chromium to read the pages."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from exporter.config import load_config
from exporter.runtime import Runtime
from exporter.server import create_app
from tests.generate.alertmanager.test_server import alertmanager, post_alerts
from tests.pages.browser import Browser, chromium
from tests.servers import free_port, serve_app, wait_for

SECRET = "tok-5be1-never-on-a-page"
FAILING = ("acme_checkout", "acme_cart", "acme_search", "globex_api")
ALERTMANAGER_CONFIG = """\
route: {receiver: blackhole, group_by: [alertname], group_wait: 1h}
receivers: [{name: blackhole}]
inhibit_rules:
  - source_matchers: [alertname="BusinessServiceOutage"]
    target_matchers: [alertname="CartFailure"]
    equal: [tenant, service]
"""
ALERTS = (
    {
        "alertname": "CheckoutFailure",
        "probe": "acme_checkout",
        "tenant": "acme",
        "service": "shop",
        "severity": "critical",
        "escalation_level": "1",
        "escalate_to": "cto",
    },
    {
        "alertname": "CartFailure",
        "probe": "acme_cart",
        "tenant": "acme",
        "service": "shop",
        "severity": "high",
        "escalation_level": "0",
    },
    {"alertname": "BusinessServiceOutage", "tenant": "acme", "service": "shop"},
)


def target_api() -> Starlette:
    """/ok answers 200, /broken 500, /echo 200 with the request's Authorization in its JSON."""

    async def ok(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def broken(request: Request) -> PlainTextResponse:
        return PlainTextResponse("internal error", 500)

    async def echo(request: Request) -> JSONResponse:
        seen = request.headers.get("authorization", "")
        return JSONResponse({"ready": False, "seen": seen}, headers={"X-Seen": seen})

    return Starlette(routes=[Route("/ok", ok), Route("/broken", broken), Route("/echo", echo)])


def config_text(api: str, secret_file: Path, now: datetime) -> str:
    """Acme's shop fails (two targets of one opportunity), its search cannot be checked and
    is in maintenance, its login works; Globex's API fails on a body that echoes a secret."""
    start = now.replace(second=0, microsecond=0) - timedelta(hours=1)
    end = start + timedelta(hours=3)
    closed = f"http://127.0.0.1:{free_port()}/"
    return f"""\
defaults: {{interval: 500ms, timeout: 500ms, failure_threshold: 2, success_threshold: 1}}
tenants:
  acme: {{tier: gold, display_name: Acme Corp, status_page: true}}
  globex: {{tier: gold}}
contexts:
  revenue_critical: {{}}
  search: {{}}
alerts:
  checkout_failure:
    severity: critical
    context: revenue_critical
    business_impact: Customers cannot pay
    recovery_sla: 15m
    runbook_url: https://runbooks.example.com/{{probe}}
maintenance:
  search_reindex:
    tenant: acme
    service: search
    start: {start.isoformat()}
    end: {end.isoformat()}
targets:
  - name: acme_checkout
    description: Customers pay for their basket
    alert: checkout_failure
    context: revenue_critical
    service: shop
    tenant: acme
    revenue_at_risk: {{amount: 50000, currency: GBP}}
    http: {{url: "{api}/broken"}}
  - name: acme_cart
    description: Basket API storefront_basket_line_items_with_pricing_stock_and_promotions_v1
    severity: high
    context: revenue_critical
    service: shop
    tenant: acme
    revenue_at_risk: {{amount: 20000, currency: GBP}}
    http: {{url: "{api}/broken"}}
  - name: acme_search
    severity: medium
    context: search
    service: search
    tenant: acme
    revenue_at_risk: {{amount: 5000, currency: GBP}}
    http: {{url: "{closed}"}}
  - name: acme_login
    severity: critical
    context: revenue_critical
    service: auth
    tenant: acme
    http: {{url: "{api}/ok"}}
  - name: globex_api
    severity: high
    context: revenue_critical
    service: api
    tenant: globex
    revenue_at_risk: {{amount: 10000, currency: USD}}
    http:
      url: "{api}/echo"
      headers: {{Authorization: {{file: "{secret_file}", prefix: "Bearer "}}}}
      body_checks: [{{json_path: $.seen, equals: nobody}}]
"""


@dataclass(frozen=True)
class Site:
    exporter: str  # base URL of the exporter, which knows the Alertmanager
    alertmanager: str
    api: str
    config: Path
    runtime: Runtime


def status(base: str) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(f"{base}/api/v1/status", timeout=10).json()
    return data


def failing_now(base: str) -> set[str]:
    return {
        t["name"] for g in status(base)["groups"] for t in g["targets"] if t["state"] == "failing"
    }


def settled(base: str) -> bool:
    """Every failing target fails, the healthy one ran, and each has a few runs in its ring."""
    targets = {t["name"]: t for g in status(base)["groups"] for t in g["targets"]}
    runs = [sum(s["runs"] for s in t["history"]) for t in targets.values()]
    return (
        failing_now(base) == set(FAILING)
        and targets["acme_login"]["state"] == "ok"
        and (min(runs) >= 4)
    )


@contextlib.contextmanager
def exporter_for(
    config: Path, alertmanager_url: str | None = None
) -> Iterator[tuple[str, Runtime]]:
    runtime = Runtime(load_config(config), config)
    with serve_app(create_app(runtime, alertmanager_url=alertmanager_url)) as base:
        yield base, runtime


def alertmanager_holds(url: str) -> bool:
    alerts = httpx.get(f"{url}/api/v2/alerts", timeout=5).json()
    states = {a["labels"]["alertname"]: a["status"]["state"] for a in alerts}
    return states == {
        "CheckoutFailure": "active",
        "CartFailure": "suppressed",
        "BusinessServiceOutage": "active",
    }


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The target API, and a config of targets on it; yields the config file and the API."""
    folder = tmp_path_factory.mktemp("pages")
    secret = folder / "token"
    secret.write_text(SECRET)
    with serve_app(target_api()) as api:
        config = folder / "config.yaml"
        config.write_text(config_text(api, secret, datetime.now(UTC)))
        yield config, api


@pytest.fixture(scope="module")
def site(scene: tuple[Path, str]) -> Iterator[Site]:
    config, api = scene
    am_config = config.parent / "alertmanager.yml"
    am_config.write_text(ALERTMANAGER_CONFIG)
    with alertmanager(am_config) as am:
        post_alerts(am, *({"labels": labels} for labels in ALERTS))
        wait_for(lambda: alertmanager_holds(am), timeout=20, what="Alertmanager to inhibit")
        with exporter_for(config, am) as (base, runtime):
            wait_for(lambda: settled(base), timeout=20, what="the targets to fail")
            yield Site(base, am, api, config, runtime)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with chromium(tmp_path_factory.mktemp("screenshots")) as made:
        yield made
