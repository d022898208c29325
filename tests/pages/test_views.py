"""What the pages compute, from a state table filled by hand: outcomes, revenue, history."""

from __future__ import annotations

from pathlib import Path

from exporter.config import load_config
from exporter.pages.alertmanager import NOT_CONFIGURED
from exporter.pages.oncall import oncall_view
from exporter.pages.revenue import at_risk
from exporter.pages.status import BUCKETS, tenant_status
from exporter.plan import compile_plan
from exporter.probes import ProbeResult
from exporter.runtime import Runtime
from exporter.state import TargetState

NOW = 1_800_000_000.0


def runtime_of(tmp_path: Path, targets: str) -> Runtime:
    path = tmp_path / "config.yaml"
    path.write_text(
        "tenants:\n  acme: {tier: gold, status_page: true}\n  globex: {tier: gold}\n"
        "targets:\n" + targets
    )
    config = load_config(path)
    runtime = Runtime(config, path)
    runtime.scheduler.states = {t.name: TargetState(compile_plan(t)) for t in config.targets}
    return runtime


def target(name: str, tenant: str, context: str, money: str = "", interval: str = "30s") -> str:
    revenue = f", revenue_at_risk: {money}" if money else ""
    return (
        f"  - {{name: {name}, severity: high, context: {context}, service: shop, "
        f"tenant: {tenant}, interval: {interval}, timeout: 1s{revenue}, "
        'http: {url: "http://127.0.0.1:1/"}}\n'
    )


def fail(state: TargetState, reason: str, times: int, at: float = NOW) -> None:
    for i in range(times):
        state.record(ProbeResult.failed(reason, "detail"), 0.01, at + i)


def test_a_failure_is_a_violation_once_a_run_found_one(tmp_path: Path) -> None:
    runtime = runtime_of(tmp_path, target("shop", "acme", "revenue"))
    state = runtime.scheduler.states["shop"]
    fail(state, "connect_error", 2)
    (view,) = oncall_view(runtime, NOT_CONFIGURED, NOW + 5).groups[0].targets
    assert (view.state, view.outcome) == ("failing", "unverified")
    fail(state, "unexpected_status", 1)
    (view,) = oncall_view(runtime, NOT_CONFIGURED, NOW + 5).groups[0].targets
    assert (view.state, view.outcome) == ("failing", "violation")


def test_an_opportunity_counts_its_largest_amount_once(tmp_path: Path) -> None:
    runtime = runtime_of(
        tmp_path,
        target("checkout", "acme", "revenue", "{amount: 50000, currency: GBP}")
        + target("cart", "acme", "revenue", "{amount: 20000, currency: GBP}")
        + target("search", "acme", "search", "{amount: 5000, currency: GBP}")
        + target("api", "globex", "revenue", "{amount: 10000, currency: USD}")
        + target("idle", "globex", "search", "{amount: 99999, currency: USD}"),
    )
    states = runtime.scheduler.states
    gbp, usd = at_risk(states[n].about for n in ("checkout", "cart", "search", "api"))
    assert (gbp.currency, gbp.amount, gbp.tenants) == ("GBP", 55000, (("acme", 55000),))
    assert (usd.currency, usd.amount, usd.tenants) == ("USD", 10000, (("globex", 10000),))


def test_a_status_strip_holds_each_result_until_the_next_run(tmp_path: Path) -> None:
    # A 5m target and a 10s one: the fast one covers the last 600 s, the strip's 30 stretches of
    # 20 s; the slow one's failure 400 s ago colours every stretch from there on.
    runtime = runtime_of(
        tmp_path,
        target("slow", "acme", "revenue", interval="5m")
        + target("fast", "acme", "revenue", interval="10s"),
    )
    slow, fast = runtime.scheduler.states["slow"], runtime.scheduler.states["fast"]
    for i in range(60):
        fast.record(ProbeResult.ok(), 0.01, NOW - 600 + i * 10)
    slow.record(ProbeResult.ok(), 0.01, NOW - 700)
    fail(slow, "unexpected_status", 1, NOW - 400)
    (shop,) = tenant_status(runtime, "acme", NOW).services
    assert BUCKETS == 30
    assert [s.status for s in shop.history] == ["operational"] * 10 + ["disrupted"] * 20
    assert shop.availability == 60 / 61
