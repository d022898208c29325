"""What a fault fires and who hears of it, worked out from the reference config, its rules and
its routing tree, with the demo's timings."""

from __future__ import annotations

from datetime import datetime

import pytest

from exporter.config import Config, Target
from exporter.demo.expect import Expected, Timing, expected_alerts
from exporter.demo.fast import speed_up

TIMING = Timing(scrape=5.0, evaluation=5.0)
MONDAY_MORNING = datetime.fromisoformat("2026-12-07T10:00:00+00:00")
SUNDAY_NIGHT = datetime.fromisoformat("2026-12-06T23:30:00+00:00")
SUNDAY_MAINTENANCE = datetime.fromisoformat("2026-12-06T03:00:00+00:00")
ZEBRA = ("email_matt_lindop", "email_sales_team", "slack_zebra_channel")
LOGIN_FAULT = (
    "auth_login_endpoint",
    "critical_endpoints_auth_login",
    "zebra_admin_login_flow",
    "api_response_time_auth_login",
)


@pytest.fixture
def fast(reference: Config) -> Config:
    return speed_up(reference, 10)


def _targets(config: Config, *names: str) -> list[Target]:
    return [t for t in config.targets if t.name in names]


def _one(alerts: list[Expected], alertname: str, level: int = 0, **labels: str) -> Expected:
    [found] = [
        a
        for a in alerts
        if a.alertname == alertname
        and a.level == level
        and all(a.labels.get(k) == v for k, v in labels.items())
    ]
    return found


def test_the_login_fault_tells_the_zebra_receivers_within_the_worst_case_of_their_route(
    fast: Config,
) -> None:
    alerts = expected_alerts(fast, _targets(fast, *LOGIN_FAULT), TIMING, MONDAY_MORNING)
    zebra = _one(alerts, "ZebraAdminFailure", probe="zebra_admin_login_flow")
    assert zebra.inhibited is None
    by_receivers = {r.receivers: r for r in zebra.routes}
    assert set(by_receivers) == {ZEBRA, ("pagerduty_critical", "slack_alerts")}
    route = by_receivers[ZEBRA]
    # 60 s / 10 x failure_threshold 2, the last run's timeout (6 s), a scrape and an evaluation
    # (5 s each); then the Zebra route's group_interval, 5m / 10, when its group is alive.
    assert (route.group_wait, route.group_interval) == (1.0, 30.0)
    assert zebra.within(route) == 6 * 2 + 6 + 5 + 5 + 30 == 58
    assert zebra.floor_at(route) == 6 * 2 + 5 + 5 + 1
    level_1 = _one(alerts, "ZebraAdminFailure", level=1, probe="zebra_admin_login_flow")
    assert (level_1.after, [r.receivers for r in level_1.routes]) == (
        60.0,
        [("email_product_manager",)],
    )


def test_an_outage_inhibits_from_the_start_only_what_cannot_reach_alertmanager_before_it(
    fast: Config,
) -> None:
    alerts = expected_alerts(fast, _targets(fast, *LOGIN_FAULT), TIMING, MONDAY_MORNING)
    outage = _one(alerts, "BusinessServiceOutage", service="auth")
    assert outage.inhibited is None
    # The slowest probe of the service turns failing last: its alert never goes out alone.
    slowest = _one(alerts, "PerformanceDegradation")
    assert slowest.inhibited is not None
    assert slowest.inhibited.source == "BusinessServiceOutage service=auth tenant=marketedge"
    assert slowest.inhibited.from_the_start
    # Login's own probe fails in 10 s, the outage needs 30 s more: login's alert goes out first.
    login = _one(alerts, "AuthSystemFailure")
    assert login.inhibited is not None
    assert not login.inhibited.from_the_start
    # Escalations are not inhibited by the outage: when nobody acts, they still go out.
    assert _one(alerts, "AuthSystemFailure", level=1).inhibited is None


@pytest.mark.parametrize(
    ("now", "held"),
    [
        (MONDAY_MORNING, None),
        (SUNDAY_NIGHT, "active only in business_hours: monday:friday 09:00-18:00 Europe/London"),
        (SUNDAY_MAINTENANCE, "muted by maintenance (sunday 02:00-04:00 Europe/London)"),
    ],
)
def test_a_route_held_back_by_its_time_intervals_says_why(
    fast: Config, now: datetime, held: str | None
) -> None:
    alerts = expected_alerts(fast, _targets(fast, "redis_session_storage"), TIMING, now)
    [route] = _one(alerts, "SessionStorageFailure").routes
    assert (route.origin, route.receivers, route.held) == (
        "routing.severities.medium",
        ("email_digest", "slack_alerts"),
        held,
    )
