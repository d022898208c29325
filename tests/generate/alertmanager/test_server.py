"""The generated config in a real Alertmanager: inhibition, and the templates rendered for real.

Alerts are posted to Alertmanager's API directly, as Prometheus would post them: the whole
chain from a probe to a notification is tests/test_alerting_end_to_end.py's.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import urllib.request
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.config import Config, load_config, parse_config
from exporter.demo.sink import Post, SmtpSink, WebhookSink
from exporter.generate.alertmanager.files import INHIBITION_TESTS_FILE
from exporter.generate.alertmanager.routing_cases import routing_cases
from tests.generate.alertmanager.test_tools import write_alertmanager
from tests.generate.test_bundle import REFERENCE
from tests.servers import free_port, wait_for

ALERTMANAGER = "prometheus-alertmanager"  # Debian's name: there is no `alertmanager` command


@contextlib.contextmanager
def alertmanager(config_file: Path) -> Iterator[str]:
    """Alertmanager on a free loopback port, without gossip; yields its base URL."""
    url = f"http://127.0.0.1:{free_port()}"
    log = (config_file.parent / "alertmanager.log").open("wb")
    process = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={config_file}",
            f"--storage.path={config_file.parent / 'data'}",
            f"--web.listen-address={url.removeprefix('http://')}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: _ready(url), timeout=10, what="Alertmanager to be ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _ready(url: str) -> bool:
    with (
        contextlib.suppress(OSError),
        urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response,
    ):
        return bool(response.status == 200)
    return False


def post_alerts(url: str, *alerts: Mapping[str, Any]) -> None:
    body = json.dumps(list(alerts)).encode()
    request = urllib.request.Request(
        f"{url}/api/v2/alerts", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def states(url: str) -> dict[tuple[str, str, str, str], str]:
    """(alertname, probe, service, tenant) -> active or suppressed, as Alertmanager sees it."""
    with urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=5) as response:
        alerts = json.load(response)
    return {
        tuple(a["labels"].get(k, "") for k in ("alertname", "probe", "service", "tenant")): a[
            "status"
        ]["state"]
        for a in alerts
    }


def labels_of(config: Config, name: str, **changes: str) -> dict[str, str]:
    labels = next(c.labels for c in routing_cases(config) if c.name == name)
    return {**labels, **changes}


def test_an_outage_and_an_emergency_inhibit_only_their_own_service_and_tenant(
    tmp_path: Path,
) -> None:
    config = load_config(REFERENCE, offline=True)
    zebra = labels_of(config, "ZebraAdminFailure level 0")
    stale = labels_of(config, "BusinessProbeStale", service="auth", tenant="marketedge")
    alerts = [
        labels_of(config, "BusinessServiceOutage admin/zebra_associates"),  # mutes:
        zebra,  # the admin service of the Zebra tenant: muted
        {**zebra, "service": "users", "probe": "zebra_users"},  # another service: not
        {**zebra, "probe": "zebra_flow", "escalation_level": "1"},  # an escalation: not
        labels_of(config, "CriticalEndpointFailure level 0", service="admin", tenant="marketedge"),
        labels_of(config, "AuthSystemFailure level 0"),  # an emergency of auth_login_endpoint
        {**stale, "probe": "auth_login_endpoint"},  # less severe, the same probe: muted
        {**stale, "probe": "api_response_time_auth_login"},  # another probe: not
        {**stale, "probe": "auth_login_endpoint", "tenant": "acme"},  # another tenant: not
    ]
    with WebhookSink() as sink, alertmanager(write_alertmanager(config, tmp_path, sink.url)) as url:
        post_alerts(url, *({"labels": labels} for labels in alerts))
        expected = {
            ("BusinessServiceOutage", "", "admin", "zebra_associates"): "active",
            ("ZebraAdminFailure", "zebra_admin_access", "admin", "zebra_associates"): "suppressed",
            ("ZebraAdminFailure", "zebra_users", "users", "zebra_associates"): "active",
            ("ZebraAdminFailure", "zebra_flow", "admin", "zebra_associates"): "active",
            (
                "CriticalEndpointFailure",
                "critical_endpoints_auth_login",
                "admin",
                "marketedge",
            ): "active",
            ("AuthSystemFailure", "auth_login_endpoint", "auth", "marketedge"): "active",
            ("BusinessProbeStale", "auth_login_endpoint", "auth", "marketedge"): "suppressed",
            ("BusinessProbeStale", "api_response_time_auth_login", "auth", "marketedge"): "active",
            ("BusinessProbeStale", "auth_login_endpoint", "auth", "acme"): "active",
        }
        wait_for(lambda: states(url) == expected, timeout=10, what="inhibition to settle")


def test_each_generated_inhibition_case_holds_in_a_real_alertmanager(tmp_path: Path) -> None:
    """alertmanager/tests/inhibition.yml, case by case: the dependency's alert fires, and
    Alertmanager holds back (or not) the alert of what depends on it; then both resolve."""
    config = load_config(REFERENCE, offline=True)
    with WebhookSink() as sink, alertmanager(write_alertmanager(config, tmp_path, sink.url)) as url:
        cases = yaml.safe_load((tmp_path / INHIBITION_TESTS_FILE).read_text())
        assert len(cases) == 19
        for case in cases:
            _holds(url, case)


def _holds(url: str, case: dict[str, Any]) -> None:
    source, target = case["source"], case["target"]
    post_alerts(url, {"labels": source}, {"labels": target})
    expected = "suppressed" if case["muted"] else "active"
    wait_for(lambda: _state(url, target) == expected, timeout=10, what=case["name"])
    assert _state(url, source) == "active", case["name"]
    ended = datetime.now(UTC).isoformat()
    post_alerts(url, *({"labels": a, "endsAt": ended} for a in (source, target)))
    wait_for(lambda: not states(url), timeout=10, what=f"{case['name']}: resolved")


def _state(url: str, labels: Mapping[str, str]) -> str:
    with urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=5) as response:
        alerts = json.load(response)
    found = [a["status"]["state"] for a in alerts if a["labels"] == labels]
    return found[0] if found else "absent"


SINGLE_ROUTE = """
smtp: {smarthost: "127.0.0.1:SMTP_PORT", from: alerts@marketedge.example, require_tls: false}
receivers:
  slack: {slack: {api_url_file: SLACK_URL_FILE, channel: "#zebra"}}
  pagerduty: {pagerduty: {routing_key_file: KEY_FILE, url: "SINK/pagerduty"}}
  email: {email: {to: [matt.lindop@zebra.example]}}
routing:
  receiver: slack
  group_wait: 0s
  group_interval: 1s
  severities:
    critical: {receivers: [slack, pagerduty, email]}
"""

ANNOTATIONS = {
    "summary": "Zebra Associates admin access failure: zebra_admin_access",
    "stakeholder_message": "ZEBRA ALERT: admin panel unavailable for matt.lindop",
    "business_impact": "Zebra Associates admin access failure - £925K opportunity at risk",
    "revenue_at_risk": "925k GBP",
    "recovery_sla": "30 minutes",
    "technical_message": "ZEBRA ADMIN FAILURE: unexpected_status. Check /admin/feature-flags.",
    "runbook_url": "https://runbooks.example.com/zebra_admin_access",
}
COMPONENT = "zebra_admin_access / admin / zebra_associates"
TITLE = "[FIRING:1] P1 ZebraAdminFailure | zebra_opportunity | tenant zebra_associates"


ONE_TARGET = """targets:
  - {name: login, severity: info, context: ops, service: auth, http: {url: "http://127.0.0.1:1/"}}
"""


@pytest.fixture
def single_route(tmp_path: Path) -> Iterator[tuple[str, WebhookSink, SmtpSink]]:
    """Alertmanager with one route to a Slack, a PagerDuty and an email receiver, all sinks."""
    with WebhookSink() as sink, SmtpSink() as mail:
        (tmp_path / "slack.url").write_text(f"{sink.url}/slack\n")
        (tmp_path / "pagerduty.key").write_text("test-routing-key\n")
        text = (
            SINGLE_ROUTE.replace("SMTP_PORT", str(mail.port))
            .replace("SLACK_URL_FILE", str(tmp_path / "slack.url"))
            .replace("KEY_FILE", str(tmp_path / "pagerduty.key"))
            .replace("SINK", sink.url)
        )
        config = parse_config(text + ONE_TARGET, offline=True)
        with alertmanager(write_alertmanager(config, tmp_path / "bundle")) as url:
            yield url, sink, mail


def test_slack_pagerduty_and_email_carry_the_business_context(
    single_route: tuple[str, WebhookSink, SmtpSink],
) -> None:
    url, sink, mail = single_route
    zebra = labels_of(load_config(REFERENCE, offline=True), "ZebraAdminFailure level 0")
    post_alerts(url, {"labels": zebra, "annotations": ANNOTATIONS})
    slack = sink.wait_for(lambda p: p.path == "/slack", timeout=10, what="Slack")
    pagerduty = sink.wait_for(lambda p: p.path == "/pagerduty", timeout=10, what="PagerDuty")
    email = mail.wait_for(lambda m: True, timeout=10, what="an email")

    (attachment,) = slack.body["attachments"]
    assert (attachment["title"], attachment["color"]) == (TITLE, "danger")
    assert slack.body["channel"] == "#zebra"
    payload = pagerduty.body["payload"]
    assert payload["summary"] == f"{TITLE}: {ANNOTATIONS['summary']}"
    assert (payload["severity"], payload["class"]) == ("critical", "zebra_opportunity")
    assert (payload["component"], payload["group"]) == ("admin", "zebra_associates")
    details = payload["custom_details"]
    for field in ("business_impact", "revenue_at_risk", "recovery_sla", "technical_message"):
        assert details[field] == ANNOTATIONS[field]
    assert details["component"] == COMPONENT
    assert email.subject == TITLE
    for text in (attachment["text"], email.part("plain"), email.part("html")):
        for value in (*ANNOTATIONS.values(), COMPONENT):
            assert value in text, (value, text)
    _resolves_with_the_same_dedup_key(url, sink, pagerduty, zebra)


def _resolves_with_the_same_dedup_key(
    url: str, sink: WebhookSink, firing: Post, labels: Mapping[str, str]
) -> None:
    now = datetime.now(UTC).isoformat()
    post_alerts(url, {"labels": labels, "annotations": ANNOTATIONS, "endsAt": now})
    resolved = sink.wait_for(
        lambda p: p.path == "/pagerduty" and p.body["event_action"] == "resolve",
        timeout=10,
        what="the PagerDuty resolve",
    )
    assert firing.body["event_action"] == "trigger"
    assert resolved.body["dedup_key"] == firing.body["dedup_key"]
    assert resolved.body["routing_key"] == "test-routing-key"
