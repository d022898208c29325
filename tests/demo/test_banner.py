"""The banner names each fault's alerts, their receivers and how soon, and what holds them back."""

from __future__ import annotations

import re
from datetime import datetime

from exporter import conventions as c
from exporter.config import Config, Target
from exporter.demo.app import create_demo_app
from exporter.demo.banner import fault_block, fault_switches
from exporter.demo.expect import Timing
from exporter.demo.fast import speed_up
from exporter.demo.run import API
from exporter.demo.scenarios import Fault, demo_faults
from tests.demo.running import ROOT

TIMING = Timing(scrape=5.0, evaluation=5.0)
SUNDAY_NIGHT = datetime.fromisoformat("2026-12-06T23:30:00+00:00")


def _paused(kind: str) -> Fault:
    """The demo's fault of a server that hangs, without starting the server."""

    def fails(target: Target) -> str | None:
        return c.REASON_TIMEOUT if target.kind == kind else None

    return Fault(f"{kind}_paused", f"{kind} hangs", "kill -STOP 1", "kill -CONT 1", fails, _no, _no)


def _no() -> None:
    return None


def test_the_login_fault_names_its_alerts_receivers_and_what_mutes_them(
    reference: Config,
) -> None:
    config = speed_up(reference, 10)
    login = demo_faults(API, create_demo_app().state.faults)[0]
    lines = [line.strip() for line in fault_block(config, login, TIMING, SUNDAY_NIGHT)]
    assert lines[:4] == [
        "/api/v1/auth/login answers 500:",
        "curl -X POST 'http://127.0.0.1:8000/_faults/error?path=/api/v1/auth/login'",
        "curl -X DELETE 'http://127.0.0.1:8000/_faults/error?path=/api/v1/auth/login'   # undo",
        "fails auth_login_endpoint, critical_endpoints_auth_login, zebra_admin_login_flow, "
        "api_response_time_auth_login (unexpected_status: a violation)",
    ]
    auth = "AuthSystemFailure service=auth tenant=marketedge"
    assert (
        "ZebraAdminFailure probe=zebra_admin_login_flow -> email_matt_lindop + email_sales_team "
        "+ slack_zebra_channel within 58 s; pagerduty_critical + slack_alerts within 40 s, "
        f"unless {auth} fires first and mutes it"
    ) in lines
    assert (
        "PerformanceDegradation probe=api_response_time_auth_login: muted by "
        "BusinessServiceOutage service=auth tenant=marketedge"
    ) in lines
    assert (
        f"ZebraAdminFailure 60 s -> email_product_manager (muted by {auth}), 120 s -> "
        f"email_sales_director + email_sales_team (muted by {auth})"
    ) in lines


def test_the_readme_states_the_zebra_receivers_time_the_banner_prints(reference: Config) -> None:
    config = speed_up(reference, 10)
    dropped = demo_faults(API, create_demo_app().state.faults)[1]
    lines = [line.strip() for line in fault_block(config, dropped, TIMING, SUNDAY_NIGHT)]
    readme = (ROOT / "README.md").read_text()
    figure = re.search(r"The Zebra receivers hear of it within (\d+) s", readme)
    assert figure is not None
    outage = (
        "BusinessServiceOutage service=admin tenant=zebra_associates -> email_matt_lindop + "
        f"email_sales_team + slack_zebra_channel within {figure.group(1)} s;"
    )
    assert any(line.startswith(outage) for line in lines), lines
    assert outage in " ".join(readme.split())


def test_a_paused_database_says_the_check_cannot_run_and_what_mutes_it(
    reference: Config,
) -> None:
    lines = fault_block(speed_up(reference, 10), _paused("postgres"), TIMING, SUNDAY_NIGHT)
    text = [line.strip() for line in lines]
    assert "fails database_connectivity, tenant_isolation (timeout: the check cannot run)" in text
    assert (
        "BusinessCannotVerify probe=tenant_isolation: muted by DatabaseConnectionFailure "
        "service=database tenant=marketedge"
    ) in text
    assert "TenantIsolationBreach" not in "\n".join(lines)
    # The database seen fixed (2 runs 5 s apart, a 5 s timeout), scraped (5 s), then the
    # quiet of its slowest dependent, tenant_isolation: 3 runs 30 s apart, 15 s, a minute.
    assert text[-1] == (
        f"after the undo, what depends on it stays quiet up to {2 * 5 + 5 + 5 + 165} s, a "
        "symptom until seen fixed: auth_login_endpoint, zebra_admin_access, feature_flag_system "
        "and 8 more"
    )


def test_an_alert_in_a_maintenance_window_is_said_quiet(reference: Config) -> None:
    sunday_patching = datetime.fromisoformat("2026-12-06T03:30:00+00:00")
    lines = fault_block(speed_up(reference, 10), _paused("redis"), TIMING, sunday_patching)
    assert lines[-3].strip() == (
        "SessionStorageFailure probe=redis_session_storage: quiet, in maintenance window "
        "session_store_patching (sunday 03:00-04:00 days 1:7 Europe/London)"
    )


def test_a_fault_whose_route_is_out_of_its_active_time_says_so(reference: Config) -> None:
    lines = fault_block(speed_up(reference, 10), _paused("redis"), TIMING, SUNDAY_NIGHT)
    assert lines[-3].strip() == (
        "SessionStorageFailure probe=redis_session_storage -> email_digest + slack_alerts, "
        "held now: active only in business_hours: monday:friday 09:00-18:00 Europe/London"
    )


def test_without_alertmanager_the_faults_still_name_the_targets_they_break(
    reference: Config,
) -> None:
    lines = fault_switches(reference, [_paused("redis")])
    assert [line.strip() for line in lines[1:]] == [
        "redis hangs:",
        "kill -STOP 1",
        "kill -CONT 1   # undo",
        "fails redis_session_storage (timeout: the check cannot run)",
    ]
