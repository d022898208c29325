"""The banner names each fault's alerts, their receivers and how soon, and what holds them back."""

from __future__ import annotations

import re
from datetime import datetime

from exporter.config import Config
from exporter.demo.app import create_demo_app
from exporter.demo.banner import fault_block, fault_switches
from exporter.demo.expect import Timing
from exporter.demo.fast import speed_up
from exporter.demo.run import API
from exporter.demo.scenarios import Fault, demo_faults
from tests.demo.running import ROOT

TIMING = Timing(scrape=5.0, evaluation=5.0)
SUNDAY_NIGHT = datetime.fromisoformat("2026-12-06T23:30:00+00:00")


def _redis_stopped() -> Fault:
    return Fault(
        "redis_paused",
        "Redis hangs",
        "kill -STOP 1",
        "kill -CONT 1",
        lambda target: target.kind == "redis",
        lambda: None,
        lambda: None,
    )


def test_the_login_fault_names_its_alerts_receivers_and_the_zebra_route_worst_case(
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
        "api_response_time_auth_login",
    ]
    assert (
        "ZebraAdminFailure probe=zebra_admin_login_flow -> email_matt_lindop + email_sales_team "
        "+ slack_zebra_channel within 58 s; pagerduty_critical + slack_alerts within 40 s"
    ) in lines
    assert (
        "PerformanceDegradation probe=api_response_time_auth_login: inhibited by "
        "BusinessServiceOutage service=auth tenant=marketedge"
    ) in lines
    assert "ZebraAdminFailure 60 s -> email_product_manager, 120 s -> email_sales_director + " in (
        "\n".join(lines)
    )


def test_the_readme_states_the_zebra_receivers_time_the_banner_prints(reference: Config) -> None:
    config = speed_up(reference, 10)
    login = demo_faults(API, create_demo_app().state.faults)[0]
    banner = "\n".join(fault_block(config, login, TIMING, SUNDAY_NIGHT))
    readme = (ROOT / "README.md").read_text()
    figure = re.search(r"The Zebra receivers hear of it within (\d+) s", readme)
    assert figure is not None
    assert f"slack_zebra_channel within {figure.group(1)} s;" in banner
    assert f"slack_zebra_channel within {figure.group(1)} s;" in readme


def test_a_fault_whose_route_is_out_of_its_active_time_says_so(reference: Config) -> None:
    lines = fault_block(speed_up(reference, 10), _redis_stopped(), TIMING, SUNDAY_NIGHT)
    assert lines[-3].strip() == (
        "SessionStorageFailure probe=redis_session_storage -> email_digest + slack_alerts, "
        "held now: active only in business_hours: monday:friday 09:00-18:00 Europe/London"
    )


def test_without_alertmanager_the_faults_still_name_the_targets_they_break(
    reference: Config,
) -> None:
    lines = fault_switches(reference, [_redis_stopped()])
    assert [line.strip() for line in lines[1:]] == [
        "Redis hangs:",
        "kill -STOP 1",
        "kill -CONT 1   # undo",
        "fails redis_session_storage",
    ]
