"""The alerting chain for real: demo API -> exporter -> Prometheus -> Alertmanager -> receivers.

The exporter runs as `python -m exporter serve`; Prometheus and Alertmanager run on the bundle
generated from CONFIG. The receivers are the generated Slack, PagerDuty and email integrations,
pointed at local sinks: Slack's webhook URL (read from its api_url_file) and PagerDuty's Events
API URL at a webhook sink, mail at an SMTP sink. One chain serves every test; each test starts
with no fault set and no alert active, and tells its own notifications apart by alert name.

Timings, chosen so that each case takes seconds: probes every second with failure_threshold 2
and success_threshold 1, scrape and rule evaluation every second, group_interval 1 s. Probes
run no faster than Prometheus scrapes: BusinessProbeStale compares the scraped time of the last
run with the time of evaluation, which can be a scrape and an evaluation interval later, and
fires when that exceeds three probe intervals. group_wait is 3 s for critical alerts: the
per-endpoint alerts of a service and the outage alert standing for them come from different rule
groups, and reach Alertmanager up to two seconds apart (a scrape between the moments the two
probes turn failing, an evaluation between the groups); Alertmanager applies inhibition when it
flushes a group, so the wait must cover that gap. Alerts of severity high keep group_wait 1 s.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporter.config import parse_config
from exporter.demo.app import create_demo_app
from exporter.demo.faults import Faults
from exporter.demo.sink import Mail, Post, SmtpSink, WebhookSink
from exporter.demo.stack import Stack, StackOptions, exporter_process, free_port, started_stack
from tests.servers import serve_app, wait_for

SCRAPE, EVALUATION, GROUP_INTERVAL = 1.0, 1.0, 1.0
GROUP_WAIT_CRITICAL, GROUP_WAIT_HIGH = 3.0, 1.0
ESCALATION_TIME = 4.0
ZEBRA_ALERT, CUSTOMER_ALERT, FEATURES_ALERT = (
    "ZebraAdminFailure",
    "CustomerApiFailure",
    "FeaturesFailure",
)
OUTAGE_ALERT = "BusinessServiceOutage"
ZEBRA_RECEIVERS = {"zebra_slack", "zebra_account_lead"}
ONCALL = "oncall_pagerduty"
EMAILS = {
    "zebra.lead@zebra.example": "zebra_account_lead",
    "product.manager@marketedge.example": "product_manager_email",
}

CONFIG = """
contexts:
  zebra_opportunity:
    display_name: Zebra Associates opportunity
    revenue_at_risk: {amount: 925000, currency: GBP}
  revenue_critical: {}
  customer_experience: {}
alerts:
  zebra_admin_failure:
    severity: critical
    context: zebra_opportunity
    summary: "Zebra Associates admin access failure: {probe}"
    business_impact: Zebra Associates admin access failure - £925K opportunity at risk
    recovery_sla: 30m
    escalation_time: ESCALATION_TIME
    escalation_chain: [oncall_engineer, product_manager]
    stakeholder_message: "ZEBRA ALERT: admin panel unavailable for matt.lindop@zebra.associates"
    technical_message: "ZEBRA ADMIN FAILURE: {error_details}"
  customer_api_failure:
    severity: critical
    context: revenue_critical
    business_impact: Customers cannot reach their data
    recovery_sla: 15m
  features_failure:
    severity: high
    context: customer_experience
    business_impact: The feature list is unavailable
    recovery_sla: 1h
defaults:
  interval: 1s
  timeout: 500ms
  failure_threshold: 2
  success_threshold: 1
targets:
  - name: zebra_user_management
    severity: high
    context: zebra_opportunity
    service: admin
    tenant: zebra_associates
    alert: zebra_admin_failure
    http: {url: API/api/v1/user-management, valid_status_codes: [200, 401, 403]}
  - name: customer_users
    severity: critical
    context: revenue_critical
    service: customer_api
    tenant: marketedge
    alert: customer_api_failure
    http: {url: API/api/v1/users, valid_status_codes: [401]}
  - name: customer_organisations
    severity: critical
    context: revenue_critical
    service: customer_api
    tenant: marketedge
    alert: customer_api_failure
    http: {url: API/api/v1/organisations, valid_status_codes: [401]}
  - name: public_features
    severity: high
    context: customer_experience
    service: features
    tenant: marketedge
    alert: features_failure
    # Were one failure enough, the target would stay failing for three runs: long enough for
    # Alertmanager to notify, so that the test of a single failure can fail.
    success_threshold: 3
    http: {url: API/api/v1/features, valid_status_codes: [200]}
smtp:
  smarthost: 127.0.0.1:SMTP_PORT
  from: business-exporter@marketedge.example
  require_tls: false
receivers:
  oncall_pagerduty:
    pagerduty: {routing_key_file: SECRETS/pagerduty.key, url: SINK/pagerduty/oncall_pagerduty}
  zebra_slack:
    slack: {api_url_file: SECRETS/zebra-slack.url, channel: "#zebra-associates"}
  zebra_account_lead:
    email: {to: [zebra.lead@zebra.example]}
  product_manager_email:
    email: {to: [product.manager@marketedge.example]}
  team_webhook:
    webhook: {url: SINK/webhook/team_webhook}
routing:
  receiver: team_webhook
  group_wait: GROUP_WAIT_CRITICAL
  group_interval: GROUP_INTERVAL
  repeat_interval: 1h
  severities:
    critical: {receivers: [oncall_pagerduty]}
    high: {receivers: [team_webhook], group_wait: GROUP_WAIT_HIGH}
  contexts:
    zebra_opportunity: {receivers: [zebra_slack, zebra_account_lead]}
  escalation:
    product_manager: [product_manager_email]
"""


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification as a receiver got it, whatever the integration."""

    receiver: str
    status: str  # firing or resolved
    alertname: str
    text: str  # everything it says, to look for the business annotations in
    arrived: float  # time.monotonic()


# The generated title: "[FIRING:1] P1 ZebraAdminFailure | zebra_opportunity | tenant ...".
_TITLE = re.compile(r"\[(FIRING|RESOLVED)[^\]]*\](?: P\d)? (\w+)")


def _from_title(receiver: str, title: str, text: str, arrived: float) -> Notice:
    match = _TITLE.search(title)
    assert match, f"no status and alert name in {title!r}"
    return Notice(receiver, match.group(1).lower(), match.group(2), text, arrived)


_PD_DEFAULTS = {"firing", "resolved", "num_firing", "num_resolved"}


def _post_notice(post: Post) -> Notice:
    kind, _, receiver = post.path.strip("/").partition("/")
    body = post.body
    assert isinstance(body, dict), post
    if kind == "slack":
        (attachment,) = body["attachments"]
        text = f"{attachment['title']}\n{attachment['text']}"
        return _from_title(receiver, attachment["title"], text, post.monotonic)
    if kind == "pagerduty":
        payload = body["payload"]
        # Only the generated details: Alertmanager adds a dump of every label and annotation.
        details = {k: v for k, v in payload["custom_details"].items() if k not in _PD_DEFAULTS}
        text = f"{payload['summary']}\n{json.dumps(details, ensure_ascii=False)}"
        return _from_title(receiver, payload["summary"], text, post.monotonic)
    assert kind == "webhook", post
    (name,) = {a["labels"]["alertname"] for a in body["alerts"]}
    return Notice(receiver, body["status"], name, post.raw.decode(), post.monotonic)


def _mail_notices(mail: Mail) -> list[Notice]:
    text = f"{mail.subject}\n{mail.part('plain')}\n{mail.part('html')}"
    return [_from_title(EMAILS[to], mail.subject, text, mail.monotonic) for to in mail.rcpt_tos]


@dataclass
class Chain:
    stack: Stack
    faults: Faults
    hooks: WebhookSink
    mail: SmtpSink
    exporter: str

    def notices(self, since: float = 0.0) -> list[Notice]:
        found = [_post_notice(p) for p in self.hooks.records]
        found += [n for mail in self.mail.records for n in _mail_notices(mail)]
        return sorted((n for n in found if n.arrived >= since), key=lambda n: n.arrived)

    def wait_notices(
        self, match: Callable[[Notice], bool], receivers: set[str], timeout: float = 20
    ) -> dict[str, Notice]:
        """The first notice matching `match` at each of `receivers`, waiting for all of them."""
        found: dict[str, Notice] = {}

        def arrived() -> bool:
            for notice in self.notices():
                if notice.receiver in receivers and match(notice):
                    found.setdefault(notice.receiver, notice)
            return found.keys() == receivers

        wait_for(arrived, timeout=timeout, what=f"notifications at {sorted(receivers)}")
        return found

    def exporter_sample(self, name: str, **labels: str) -> float:
        text = httpx.get(f"{self.exporter}/metrics").text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and labels.items() <= sample.labels.items():
                    return sample.value
        return 0.0

    def wait_quiet(self, what: str) -> None:
        """Until no alert but the Watchdog is pending or firing in Prometheus, or active in
        Alertmanager."""
        alerts: list[dict[str, Any]] = []

        def quiet() -> bool:
            alerts[:] = [*self.stack.prometheus_alerts(), *self.stack.alertmanager_alerts()]
            return all(a["labels"]["alertname"] == "Watchdog" for a in alerts)

        with contextlib.suppress(AssertionError):
            wait_for(quiet, timeout=15)
        assert quiet(), f"timed out waiting for {what}; active alerts: {alerts}"


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    directory = tmp_path_factory.mktemp("alerting")
    app = create_demo_app()
    with serve_app(app) as api, WebhookSink() as hooks, SmtpSink() as mail:
        secrets = directory / "secrets"
        secrets.mkdir()
        (secrets / "pagerduty.key").write_text("test-routing-key\n")
        (secrets / "zebra-slack.url").write_text(f"{hooks.url}/slack/zebra_slack\n")
        config_path = directory / "config.yaml"
        config_path.write_text(
            _fill(
                CONFIG,
                API=api,
                SINK=hooks.url,
                SECRETS=str(secrets),
                SMTP_PORT=str(mail.port),
                ESCALATION_TIME=f"{ESCALATION_TIME:g}s",
                GROUP_WAIT_CRITICAL=f"{GROUP_WAIT_CRITICAL:g}s",
                GROUP_WAIT_HIGH=f"{GROUP_WAIT_HIGH:g}s",
                GROUP_INTERVAL=f"{GROUP_INTERVAL:g}s",
            )
        )
        address = f"127.0.0.1:{free_port()}"
        options = StackOptions(address, f"{SCRAPE:g}s", f"{EVALUATION:g}s")
        config = parse_config(config_path.read_text())
        with (
            exporter_process(config_path, address, directory / "exporter.log") as exporter,
            started_stack(config, directory, options) as stack,
        ):
            running = Chain(stack, app.state.faults, hooks, mail, exporter)
            running.wait_quiet("Prometheus to scrape the healthy exporter")
            yield running


def _fill(text: str, **values: str) -> str:
    for name, value in values.items():
        text = text.replace(name, value)
    return text


@pytest.fixture
def chain_at_rest(chain: Chain) -> Iterator[Chain]:
    """The chain with no fault set and no alert active, before and after the test."""
    chain.faults.reset()
    chain.wait_quiet("every alert to resolve")
    yield chain
    chain.faults.reset()


@pytest.mark.slow
def test_a_dropped_router_notifies_the_zebra_receivers_and_on_call_then_resolves(
    chain_at_rest: Chain,
) -> None:
    chain = chain_at_rest
    start = time.monotonic()
    chain.faults.drop("user_management")
    firing = chain.wait_notices(
        lambda n: n.alertname == ZEBRA_ALERT and n.status == "firing" and n.arrived > start,
        ZEBRA_RECEIVERS | {ONCALL},
    )
    for receiver, notice in firing.items():
        for text in (
            "ZEBRA ALERT: admin panel unavailable for matt.lindop@zebra.associates",
            "Zebra Associates admin access failure - £925K opportunity at risk",
            "925k GBP",
            "30 minutes",
            "zebra_user_management",
            "ZEBRA ADMIN FAILURE: unexpected_status",
        ):
            assert text in notice.text, (receiver, text, notice.text)
    chain.faults.restore("user_management")
    restored = time.monotonic()
    chain.wait_notices(
        lambda n: n.alertname == ZEBRA_ALERT and n.status == "resolved" and n.arrived > restored,
        ZEBRA_RECEIVERS | {ONCALL},
    )
    # Only the Zebra receivers and on-call heard of it: not the catch-all team receiver.
    heard = {n.receiver for n in chain.notices(start) if n.alertname == ZEBRA_ALERT}
    assert heard <= ZEBRA_RECEIVERS | {ONCALL, "product_manager_email"}, heard


@pytest.mark.slow
def test_an_alert_still_firing_after_the_escalation_time_reaches_the_next_level(
    chain_at_rest: Chain,
) -> None:
    chain = chain_at_rest
    start = time.monotonic()
    chain.faults.drop("user_management")
    first = chain.wait_notices(
        lambda n: n.alertname == ZEBRA_ALERT and n.status == "firing" and n.arrived > start,
        {ONCALL},
    )[ONCALL]
    escalated = chain.wait_notices(
        lambda n: n.alertname == ZEBRA_ALERT and n.status == "firing" and n.arrived > start,
        {"product_manager_email"},
    )["product_manager_email"]
    assert "level 1: product_manager" in escalated.text, escalated.text
    assert "level 1" not in first.text, first.text
    # Level 1 is the same rule with `for: escalation_time`: it cannot fire sooner.
    assert escalated.arrived - start >= ESCALATION_TIME, escalated.arrived - start


@pytest.mark.slow
def test_a_service_outage_notifies_once_and_inhibits_its_endpoint_alerts(
    chain_at_rest: Chain,
) -> None:
    chain = chain_at_rest
    start = time.monotonic()
    chain.faults.drop("users")
    chain.faults.drop("organisations")  # every router of service customer_api
    outage = chain.wait_notices(
        lambda n: n.alertname == OUTAGE_ALERT and n.status == "firing" and n.arrived > start,
        {ONCALL},
    )[ONCALL]
    assert "customer_api" in outage.text, outage.text

    def inhibited() -> bool:
        endpoint = [
            a
            for a in chain.stack.alertmanager_alerts()
            if a["labels"]["alertname"] == CUSTOMER_ALERT
        ]
        return len(endpoint) == 2 and all(a["status"]["inhibitedBy"] for a in endpoint)

    # Both per-endpoint alerts reached Alertmanager, and it holds them back.
    wait_for(inhibited, timeout=10, what=f"both {CUSTOMER_ALERT} alerts to be inhibited")
    # They reached it at most a scrape and an evaluation after the outage alert, and a group
    # flushes group_wait after its first alert, as the outage's did: uninhibited, they would be
    # out within a scrape and an evaluation of the outage's notification (a group_interval
    # more for delivery).
    late = chain.hooks.matching_within(
        lambda p: CUSTOMER_ALERT in p.raw.decode(errors="replace"),
        seconds=SCRAPE + EVALUATION + GROUP_INTERVAL,
    )
    assert late == [], late
    assert [n for n in chain.notices(start) if n.alertname == CUSTOMER_ALERT] == []


@pytest.mark.slow
def test_a_single_failed_probe_notifies_nobody(chain_at_rest: Chain) -> None:
    chain = chain_at_rest
    failures = {"probe": "public_features", "result": "unexpected_status"}
    before = chain.exporter_sample("business_probe_runs_total", **failures)
    start = time.monotonic()
    chain.faults.error("/api/v1/features")
    with contextlib.ExitStack() as restore:
        restore.callback(chain.faults.clear_error, "/api/v1/features")
        wait_for(
            lambda: chain.exporter_sample("business_probe_runs_total", **failures) > before,
            timeout=5,
            what="one failed run",
        )
    # The fault lasted less than one interval (1 s): exactly one run failed.
    # Had that one failure made the target failing, Prometheus would scrape the gauge within
    # 1 s, evaluate the rule within 1 s more, and Alertmanager would notify group_wait (1 s)
    # later: 3 s. Twice that, without a notification, is a meaningful silence.
    window = 2 * (SCRAPE + EVALUATION + GROUP_WAIT_HIGH)
    sent = chain.hooks.matching_within(lambda p: FEATURES_ALERT in p.raw.decode(), window)
    assert sent == [], sent
    assert chain.exporter_sample("business_probe_runs_total", **failures) == before + 1
    assert [n for n in chain.notices(start) if n.alertname == FEATURES_ALERT] == []
    ever_failing = f'max_over_time(business_probe_failing{{probe="public_features"}}[{window:g}s])'
    assert [float(s["value"][1]) for s in chain.stack.query(ever_failing)] == [0.0]
