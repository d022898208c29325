"""Maintenance windows in the config and the exporter: when they hold, and the active metric."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import generate_latest

from exporter import conventions as c
from exporter.collector import build_registry
from exporter.config import parse_config
from exporter.config.alerting import TimeInterval
from exporter.config.maintenance import active_windows, excluded_spans, windows_of
from exporter.config.timeintervals import contains
from exporter.exposition import MetricsRenderer
from exporter.plan import compile_plan
from exporter.runtime import Runtime
from exporter.state import TargetState

CONFIG = """
tenants: {acme: {tier: gold}, globex: {tier: gold}}
tiers: {gold: {availability: 99.9, latency: 500ms, error_rate: 1}}
targets:
  - name: "{tenant}_shop"
    per_tenant: true
    severity: high
    context: sales
    service: shop
    http: {url: "https://shop.example.com/{tenant}"}
  - name: "{tenant}_billing"
    per_tenant: true
    severity: high
    context: sales
    service: billing
    http: {url: "https://billing.example.com/{tenant}"}
maintenance:
  acme_upgrade:
    tenant: acme
    start: 2026-12-13T22:00:00Z
    end: "2026-12-14T01:30:00+01:00"
  shop_patching:
    service: shop
    recurring:
      - weekdays: [sunday]
        times: [{start_time: "02:00", end_time: "04:00"}]
        location: Europe/London
"""


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "when", "inside"),
    [
        ({"times": [{"start_time": "02:00", "end_time": "04:00"}]}, utc(2026, 1, 1, 2, 0), True),
        ({"times": [{"start_time": "02:00", "end_time": "04:00"}]}, utc(2026, 1, 1, 3, 59), True),
        ({"times": [{"start_time": "02:00", "end_time": "04:00"}]}, utc(2026, 1, 1, 4, 0), False),
        ({"weekdays": ["monday:friday"]}, utc(2026, 12, 11), True),  # a Friday
        ({"weekdays": ["monday:friday"]}, utc(2026, 12, 13), False),  # a Sunday
        ({"days_of_month": ["-1"]}, utc(2028, 2, 29), True),  # the last day of a leap February
        ({"days_of_month": ["-1"]}, utc(2026, 2, 28), True),
        ({"days_of_month": ["-1"]}, utc(2026, 3, 30), False),
        ({"days_of_month": ["25:31"]}, utc(2026, 2, 28), True),  # clamped to the month's end
        ({"days_of_month": ["30"]}, utc(2026, 2, 28), False),
        ({"months": ["december"], "years": ["2026:2027"]}, utc(2027, 12, 1), True),
        ({"months": ["1:3"]}, utc(2026, 4, 1), False),
        # 01:30 UTC is 02:30 in London in summer, 01:30 in winter.
        ({"times": [{"start_time": "02:00", "end_time": "03:00"}], "location": "Europe/London"},
         utc(2026, 7, 5, 1, 30), True),
        ({"times": [{"start_time": "02:00", "end_time": "03:00"}], "location": "Europe/London"},
         utc(2026, 1, 4, 1, 30), False),
    ],
)  # fmt: skip
def test_a_time_interval_holds_as_alertmanager_says(
    spec: dict[str, object], when: datetime, inside: bool
) -> None:
    assert contains(TimeInterval.model_validate(spec), when) is inside


def test_a_one_off_window_holds_from_start_to_end_and_covers_its_tenant() -> None:
    config = parse_config(CONFIG)
    window = config.maintenance["acme_upgrade"]
    assert (window.start, window.end) == (utc(2026, 12, 13, 22), utc(2026, 12, 14, 0, 30))
    assert windows_of(config, "acme", "billing") == ["acme_upgrade"]
    assert windows_of(config, "globex", "billing") == []
    assert windows_of(config, "acme", "shop") == ["acme_upgrade", "shop_patching"]
    assert active_windows(config, "acme", "billing", utc(2026, 12, 13, 21, 59)) == []
    assert active_windows(config, "acme", "billing", utc(2026, 12, 13, 22)) == ["acme_upgrade"]
    assert active_windows(config, "acme", "billing", utc(2026, 12, 14, 0, 30)) == []


def test_excluded_spans_merge_every_window_of_a_tenants_service_over_a_period() -> None:
    config = parse_config(CONFIG)
    # Sunday 13 December 2026: patching 02:00-04:00 London (UTC in winter), the upgrade at night.
    spans = excluded_spans(config, "acme", "shop", utc(2026, 12, 13), utc(2026, 12, 15))
    assert spans == [
        (utc(2026, 12, 13, 2), utc(2026, 12, 13, 4)),
        (utc(2026, 12, 13, 22), utc(2026, 12, 14, 0, 30)),
    ]
    assert excluded_spans(config, "globex", "billing", utc(2026, 12, 1), utc(2027, 1, 1)) == []


def runtime_at_rest(text: str = CONFIG) -> Runtime:
    config = parse_config(text)
    runtime = Runtime(config, None)
    runtime.scheduler.states = {t.name: TargetState(compile_plan(t)) for t in config.targets}
    return runtime


def active_samples(runtime: Runtime, now: datetime) -> dict[tuple[str, str, str], float]:
    registry = build_registry(runtime)
    out = {}
    for metric in registry.collect():
        for s in metric.samples:
            if s.name == c.MAINTENANCE_ACTIVE:
                out[(s.labels["window"], s.labels["tenant"], s.labels["service"])] = s.value
    return out


def test_the_exporter_says_which_windows_hold_for_each_tenant_and_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime = runtime_at_rest()
    now = utc(2026, 12, 13, 23)
    monkeypatch.setattr("exporter.own_series.time.time", now.timestamp)
    assert active_samples(runtime, now) == {
        ("acme_upgrade", "acme", "billing"): 1.0,
        ("acme_upgrade", "acme", "shop"): 1.0,
        ("shop_patching", "acme", "shop"): 0.0,
        ("shop_patching", "globex", "shop"): 0.0,
    }
    later = utc(2026, 12, 20, 3)  # a Sunday, 03:00 in London: patching, the upgrade is over
    monkeypatch.setattr("exporter.own_series.time.time", later.timestamp)
    assert active_samples(runtime, later) == {
        ("acme_upgrade", "acme", "billing"): 0.0,
        ("acme_upgrade", "acme", "shop"): 0.0,
        ("shop_patching", "acme", "shop"): 1.0,
        ("shop_patching", "globex", "shop"): 1.0,
    }


async def test_the_window_metric_is_rendered_byte_for_byte_as_prometheus_client_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("exporter.own_series.time.time", utc(2026, 12, 13, 23).timestamp)
    runtime = runtime_at_rest()
    ours = await MetricsRenderer().render(runtime)
    assert ours == generate_latest(build_registry(runtime))
    line = (
        'business_maintenance_window_active{service="billing",tenant="acme",window="acme_upgrade"}'
    )
    assert f"{line} 1.0\n".encode() in ours


def test_a_config_without_windows_exposes_no_window_series() -> None:
    runtime = runtime_at_rest(CONFIG[: CONFIG.index("maintenance:")])
    assert active_samples(runtime, utc(2026, 12, 13, 23)) == {}
