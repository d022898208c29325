"""What a fault fires and who hears of it, worked out from the reference config, its rules and
its routing tree, with the demo's timings."""

from __future__ import annotations

from datetime import datetime

import pytest

from exporter import conventions as c
from exporter.config import Config
from exporter.demo.expect import Expected, Failure, Timing, expected_alerts
from exporter.demo.fast import speed_up

TIMING = Timing(scrape=5.0, evaluation=5.0)
MONDAY_MORNING = datetime.fromisoformat("2026-12-07T10:00:00+00:00")
SUNDAY_NIGHT = datetime.fromisoformat("2026-12-06T23:30:00+00:00")
SUNDAY_MAINTENANCE = datetime.fromisoformat("2026-12-06T03:00:00+00:00")
ZEBRA = ("email_matt_lindop", "email_sales_team", "slack_zebra_channel")
SECURITY = ("email_legal", "email_security_team", "pagerduty_security", "slack_security")
ADMIN_FAULT = (
    "zebra_admin_access",
    "critical_endpoints_admin_feature_flags",
    "zebra_admin_login_flow",
)
LOGIN_FAULT = (
    "auth_login_endpoint",
    "critical_endpoints_auth_login",
    "zebra_admin_login_flow",
    "api_response_time_auth_login",
)


@pytest.fixture
def fast(reference: Config) -> Config:
    return speed_up(reference, 10)


def _failing(
    config: Config, *names: str, reason: str = c.REASON_UNEXPECTED_STATUS
) -> list[Failure]:
    return [Failure(t, reason) for t in config.targets if t.name in names]


def _one(alerts: list[Expected], alertname: str, level: int = 0, **labels: str) -> Expected:
    [found] = [
        a
        for a in alerts
        if a.alertname == alertname
        and a.level == level
        and all(a.labels.get(k) == v for k, v in labels.items())
    ]
    return found


def _admin_dropped(config: Config) -> list[Failure]:
    """What the demo's admin router fault breaks (tests/demo/test_scenarios.py checks it)."""
    return [
        *_failing(config, *ADMIN_FAULT),
        *_failing(config, "api_route_registration", reason=c.REASON_ROUTE_MISSING),
    ]


def test_the_admin_router_dropped_tells_the_zebra_receivers_within_the_worst_case_of_their_route(
    fast: Config,
) -> None:
    alerts = expected_alerts(fast, _admin_dropped(fast), TIMING, MONDAY_MORNING)
    outage = _one(alerts, "BusinessServiceOutage", service="admin", tenant="zebra_associates")
    assert outage.inhibited is None
    by_receivers = {r.receivers: r for r in outage.routes}
    assert set(by_receivers) == {ZEBRA, ("pagerduty_critical", "slack_alerts")}
    route = by_receivers[ZEBRA]
    # 60 s / 10 x failure_threshold 2, the last run's timeout (6 s), a scrape and an evaluation
    # (5 s each); then the Zebra route's group_interval, 5m / 10, when its group is alive.
    assert (route.group_wait, route.group_interval) == (1.0, 30.0)
    assert outage.within(route) == 6 * 2 + 6 + 5 + 5 + 30 == 58
    # At the soonest: the fault just before a run, the next run fails too, Prometheus reads it
    # at once, then the route's group_wait.
    assert outage.floor_at(route) == 6 * 1 + 1
    # The outage stands for the Zebra endpoints: their own alert is muted unless it goes first.
    endpoint = _one(alerts, "ZebraAdminFailure", probe="zebra_admin_access")
    assert endpoint.inhibited is not None
    assert (
        endpoint.inhibited.source == "BusinessServiceOutage service=admin tenant=zebra_associates"
    )
    assert not endpoint.inhibited.from_the_start
    # One router is not the whole API.
    assert not [a for a in alerts if a.alertname == "CompleteApiFailure"]


def test_the_login_fault_mutes_the_zebra_login_flow_as_a_symptom_of_auth(fast: Config) -> None:
    alerts = expected_alerts(fast, _failing(fast, *LOGIN_FAULT), TIMING, MONDAY_MORNING)
    zebra = _one(alerts, "ZebraAdminFailure", probe="zebra_admin_login_flow")
    assert zebra.inhibited is not None
    assert zebra.inhibited.source == "AuthSystemFailure service=auth tenant=marketedge"
    # Its probe can fail before login's: then it goes out, and is muted once auth is known.
    assert not zebra.inhibited.from_the_start
    assert zebra.notifies
    level_1 = _one(alerts, "ZebraAdminFailure", level=1, probe="zebra_admin_login_flow")
    assert (level_1.after, [r.receivers for r in level_1.routes]) == (
        60.0,
        [("email_product_manager",)],
    )
    # An escalation a minute later finds auth's alert firing: muted from the start.
    assert level_1.inhibited is not None
    assert level_1.inhibited.from_the_start
    assert not level_1.notifies


def test_a_paused_database_is_a_check_that_cannot_run_not_a_breach(fast: Config) -> None:
    paused = _failing(fast, "database_connectivity", "tenant_isolation", reason=c.REASON_TIMEOUT)
    alerts = expected_alerts(fast, paused, TIMING, MONDAY_MORNING)
    assert not [a for a in alerts if a.alertname == "TenantIsolationBreach"]
    unverified = _one(alerts, c.ALERT_CANNOT_VERIFY, probe="tenant_isolation")
    assert unverified.inhibited is not None
    assert unverified.inhibited.source == (
        "DatabaseConnectionFailure service=database tenant=marketedge"
    )
    assert unverified.inhibited.from_the_start
    heard = {name for a in alerts if a.notifies for r in a.routes for name in r.receivers}
    assert "email_immediate" in heard
    assert not heard & {*SECURITY, "email_ciso"}


def test_row_level_security_off_is_a_breach_security_hears_of(fast: Config) -> None:
    off = _failing(fast, "tenant_isolation", reason=c.REASON_RLS_DISABLED)
    alerts = expected_alerts(fast, off, TIMING, MONDAY_MORNING)
    assert not [a for a in alerts if a.alertname == c.ALERT_CANNOT_VERIFY]
    breach = _one(alerts, "TenantIsolationBreach")
    assert breach.notifies
    assert SECURITY in [r.receivers for r in breach.routes]


def test_an_outage_inhibits_from_the_start_only_what_cannot_reach_alertmanager_before_it(
    fast: Config,
) -> None:
    alerts = expected_alerts(fast, _failing(fast, *LOGIN_FAULT), TIMING, MONDAY_MORNING)
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
    alerts = expected_alerts(
        fast, _failing(fast, "redis_session_storage", reason=c.REASON_TIMEOUT), TIMING, now
    )
    [route] = _one(alerts, "SessionStorageFailure").routes
    assert (route.origin, route.receivers, route.held) == (
        "routing.severities.medium",
        ("email_digest", "slack_alerts"),
        held,
    )


def test_an_alert_in_a_maintenance_window_is_quiet_and_says_which(fast: Config) -> None:
    stopped = _failing(fast, "redis_session_storage", reason=c.REASON_TIMEOUT)
    [quiet] = [
        a for a in expected_alerts(fast, stopped, TIMING, SUNDAY_MAINTENANCE) if a.level == 0
    ]
    assert quiet.quiet == (
        "maintenance window session_store_patching (sunday 03:00-04:00 days 1:7 Europe/London)"
    )
    assert not quiet.notifies
    [monday] = [a for a in expected_alerts(fast, stopped, TIMING, MONDAY_MORNING) if a.level == 0]
    assert (monday.quiet, monday.notifies) == (None, True)
