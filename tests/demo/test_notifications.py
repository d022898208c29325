"""The demo prints each Alertmanager notification once, one line per alert."""

from __future__ import annotations

import json
import time

import pytest

from exporter.demo.notifications import NotificationPrinter, describe, notifications
from exporter.demo.sink import Post

ZEBRA = "email_matt_lindop\\+slack_zebra_channel"  # as Alertmanager quotes it in the body


def _alert(
    status: str = "firing",
    alertname: str = "ZebraAdminFailure",
    fingerprint: str = "4d22f4c6c9e9f003",
    starts_at: str = "2026-12-06T17:27:20Z",
    **labels: str,
) -> dict[str, object]:
    return {
        "status": status,
        "fingerprint": fingerprint,
        "startsAt": starts_at,
        "labels": {
            "alertname": alertname,
            "severity": "critical",
            "context": "zebra_opportunity",
            "service": "admin",
            "tenant": "zebra_associates",
            "probe": "zebra_admin_login_flow",
            "escalation_level": "0",
        }
        | labels,
        "annotations": {"summary": "Zebra Associates admin access failure"},
    }


def _post(*alerts: dict[str, object], receiver: str = ZEBRA, path: str = "/x") -> Post:
    resolved = all(a["status"] == "resolved" for a in alerts)
    body: dict[str, object] = {"receiver": receiver, "alerts": list(alerts)}
    body["status"] = "resolved" if resolved else "firing"
    return Post(path, body, json.dumps(body).encode(), time.time(), time.monotonic())


def test_a_line_names_status_alert_service_tenant_probe_severity_and_receivers() -> None:
    [notification] = notifications(_post(_alert(escalation_level="1")))
    line = describe(notification)
    assert line.split(" ", 1)[1] == (
        "FIRING   ZebraAdminFailure service=admin tenant=zebra_associates "
        "probe=zebra_admin_login_flow severity=critical escalation_level=1 "
        "-> email_matt_lindop + slack_zebra_channel"
    )
    assert notification.receivers == ("email_matt_lindop", "slack_zebra_channel")


def test_a_service_outage_line_names_its_service_and_tenant() -> None:
    outage = _alert(alertname="BusinessServiceOutage", severity="emergency", service="auth")
    del outage["labels"]["probe"]  # type: ignore[attr-defined]
    outage["labels"]["tenant"] = "marketedge"  # type: ignore[index]
    [notification] = notifications(_post(outage, receiver="pagerduty_critical"))
    assert describe(notification).split(" ", 1)[1] == (
        "FIRING   BusinessServiceOutage service=auth tenant=marketedge severity=emergency "
        "-> pagerduty_critical"
    )


def test_the_printer_prints_each_alert_once_per_receiver_status_and_start(
    capsys: pytest.CaptureFixture[str],
) -> None:
    printer = NotificationPrinter()
    old = _alert(probe="zebra_admin_access", fingerprint="aaaa")
    for path in ("/email_matt_lindop", "/slack_zebra_channel"):  # the parts of one receiver
        printer(_post(old, path=path))
    printer(_post(old, receiver="pagerduty_critical\\+slack_alerts"))  # another receiver
    printer(_post(_alert(status="resolved", probe="zebra_admin_access", fingerprint="aaaa")))
    # A new incident in the same group: Alertmanager sends the old resolution along with it.
    new = _alert(starts_at="2026-12-06T18:00:00Z")
    printer(_post(_alert(status="resolved", probe="zebra_admin_access", fingerprint="aaaa"), new))
    printer(_post(new))  # and again at repeat_interval
    printer(_post(_alert(alertname="Watchdog"), receiver="deadmans_switch"))
    lines = [line.split(" ", 1)[1] for line in capsys.readouterr().out.splitlines()]
    assert [(line.split()[0], line.split()[4], line.rsplit("-> ", 1)[1]) for line in lines] == [
        ("FIRING", "probe=zebra_admin_access", "email_matt_lindop + slack_zebra_channel"),
        ("FIRING", "probe=zebra_admin_access", "pagerduty_critical + slack_alerts"),
        ("RESOLVED", "probe=zebra_admin_access", "email_matt_lindop + slack_zebra_channel"),
        ("FIRING", "probe=zebra_admin_login_flow", "email_matt_lindop + slack_zebra_channel"),
    ]


def test_the_same_alert_firing_again_later_is_a_new_notification(
    capsys: pytest.CaptureFixture[str],
) -> None:
    printer = NotificationPrinter()
    printer(_post(_alert()))
    printer(_post(_alert(status="resolved")))
    printer(_post(_alert(starts_at="2026-12-06T19:00:00Z")))
    statuses = [line.split()[1] for line in capsys.readouterr().out.splitlines()]
    assert statuses == ["FIRING", "RESOLVED", "FIRING"]


def test_a_body_that_is_not_a_notification_has_no_alerts() -> None:
    post = Post("/x", {"text": "hello"}, b'{"text": "hello"}', time.time(), time.monotonic())
    assert notifications(post) == []
    assert NotificationPrinter().new_lines(post) == []
