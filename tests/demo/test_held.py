"""The demo says when Alertmanager holds an alert back: inhibited, or its route out of time.

A real Alertmanager on the reference config's bundle receives the alerts as Prometheus would
send them and decides what it inhibits; the time intervals are read at a fixed moment."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from exporter import conventions as c
from exporter.config import Config
from exporter.demo.expect import Failure, Timing, expected_alerts
from exporter.demo.held import HeldAlerts
from exporter.demo.sink import WebhookSink
from exporter.demo.stack import StackOptions, started_stack
from tests.servers import wait_for

SUNDAY_NIGHT = datetime.fromisoformat("2026-12-06T23:30:00+00:00")
MONDAY_MORNING = datetime.fromisoformat("2026-12-07T10:00:00+00:00")


def _post_alerts(alertmanager: str, label_sets: list[dict[str, str]]) -> None:
    body = json.dumps([{"labels": labels} for labels in label_sets]).encode()
    request = urllib.request.Request(
        f"{alertmanager}/api/v2/alerts", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200


def _level_zero(config: Config, *names: str) -> list[dict[str, str]]:
    failing = [Failure(t, c.REASON_UNEXPECTED_STATUS) for t in config.targets if t.name in names]
    alerts = expected_alerts(config, failing, Timing(5, 5), MONDAY_MORNING)
    return [a.labels for a in alerts if a.level == 0]


@pytest.mark.slow
def test_inhibited_alerts_and_routes_out_of_their_time_are_said_once(
    reference: Config, tmp_path: Path
) -> None:
    zebra = _level_zero(reference, "zebra_admin_access", "zebra_admin_login_flow")
    sessions = _level_zero(reference, "redis_session_storage")
    with WebhookSink() as sink:
        options = StackOptions(exporter="127.0.0.1:1", notify_to=sink.url)
        with started_stack(reference, tmp_path, options) as stack:
            _post_alerts(stack.alertmanager_url, zebra + sessions)
            wait_for(
                lambda: (
                    sum(bool(a["status"]["inhibitedBy"]) for a in stack.alertmanager_alerts()) == 2
                ),
                what="Alertmanager to inhibit both ZebraAdminFailure alerts",
            )
            held = HeldAlerts(reference)
            lines = held.new_lines(stack.alertmanager_alerts(), SUNDAY_NIGHT)
            again = held.new_lines(stack.alertmanager_alerts(), SUNDAY_NIGHT)
            monday = HeldAlerts(reference).new_lines(stack.alertmanager_alerts(), MONDAY_MORNING)
    said = sorted(line.split(" ", 1)[1] for line in lines)
    by = "by BusinessServiceOutage service=admin tenant=zebra_associates"
    assert said == [
        "HELD     SessionStorageFailure service=sessions tenant=marketedge "
        "probe=redis_session_storage severity=medium -> email_digest + slack_alerts: "
        "active only in business_hours: monday:friday 09:00-18:00 Europe/London",
        "INHIBITED ZebraAdminFailure service=admin tenant=zebra_associates "
        f"probe=zebra_admin_access severity=critical {by}",
        "INHIBITED ZebraAdminFailure service=admin tenant=zebra_associates "
        f"probe=zebra_admin_login_flow severity=critical {by}",
    ]
    assert again == []
    assert len(monday) == 2
    assert not any("HELD" in line for line in monday)
