"""The alerting chain for real: demo API and PostgreSQL -> exporter -> Prometheus -> Alertmanager
-> receivers.

The exporter runs as `python -m exporter serve`; Prometheus and Alertmanager run on the bundle
generated from CONFIG. The receivers are the generated Slack, PagerDuty, webhook and email
integrations, pointed at local sinks: Slack's webhook URL (read from its api_url_file) and
PagerDuty's Events API URL at a webhook sink, mail at an SMTP sink. One chain serves every test;
each test starts with no fault set and no alert active, and tells its own notifications apart
by alert name. PostgreSQL holds the demo's two tenants behind forced row-level security, checked
by `tenant_isolation` (which fires on violations only, and depends on `database`: its rules are
quiet while the database fails and for about a minute after, generate/rules/symptoms.py).

Timings, chosen so that each case takes seconds: probes every second with failure_threshold 2
and success_threshold 1, scrape and rule evaluation every second, group_interval 1 s. Probes
run no faster than Prometheus scrapes: BusinessProbeStale compares the scraped time of the last
run with the time of evaluation, which can be a scrape and an evaluation interval later, and
fires when that exceeds three probe intervals. group_wait is 3 s for critical alerts: the
per-endpoint alerts of a service and the outage alert standing for them come from different rule
groups, and reach Alertmanager up to two seconds apart (a scrape between the moments the two
probes turn failing, an evaluation between the groups); Alertmanager applies inhibition when it
flushes a group, so the wait must cover that gap. Alerts of severity high keep group_wait 1 s,
the security context 0 s.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporter.config import Config, parse_config
from exporter.demo import database as demo_database
from exporter.demo.app import create_demo_app
from exporter.demo.faults import Faults
from exporter.demo.servers import PostgresServer
from exporter.demo.sink import Mail, Post, SmtpSink, WebhookSink
from exporter.demo.stack import Stack, StackOptions, exporter_process, free_port, started_stack
from exporter.generate.rules.standins import stand_ins
from exporter.generate.rules.symptoms import causes, quiet_seconds
from tests.databases import ISOLATION, MONITOR_PASSWORD
from tests.servers import serve_app, wait_for

SCRAPE, EVALUATION, GROUP_INTERVAL = 1.0, 1.0, 1.0
PROBE_INTERVAL = 1.0
GROUP_WAIT_CRITICAL, GROUP_WAIT_HIGH = 3.0, 1.0
ESCALATION_TIME = 5.0
ZEBRA_ALERT, CUSTOMER_ALERT, FEATURES_ALERT = (
    "ZebraAdminFailure",
    "CustomerApiFailure",
    "FeaturesFailure",
)
OUTAGE_ALERT = "BusinessServiceOutage"
WHOLE_API_ALERT = "CustomerApiDown"
DATABASE_ALERT, BREACH_ALERT, CANNOT_VERIFY = (
    "DatabaseDown",
    "TenantIsolationBreach",
    "BusinessCannotVerify",
)
ZEBRA_RECEIVERS = {"zebra_slack", "zebra_account_lead"}
SECURITY_RECEIVERS = {"security_webhook", "legal_email"}
ONCALL = "oncall_pagerduty"
EMAILS = {
    "zebra.lead@zebra.example": "zebra_account_lead",
    "product.manager@marketedge.example": "product_manager_email",
    "legal@marketedge.example": "legal_email",
}
ISOLATION_DATABASE = "alerting"

CONFIG = """
contexts:
  zebra_opportunity:
    display_name: Zebra Associates opportunity
    revenue_at_risk: {amount: 925000, currency: GBP}
  revenue_critical: {}
  customer_experience: {}
  security: {}
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
  customer_api_down:
    covers: customer_api_failure
    severity: critical
    context: revenue_critical
    summary: "Every customer endpoint is down for {tenant}"
    business_impact: All customer access blocked
    recovery_sla: 15m
  features_failure:
    severity: high
    context: customer_experience
    business_impact: The feature list is unavailable
    recovery_sla: 1h
    escalation_time: ESCALATION_TIME
    escalation_chain: [oncall_engineer, product_manager]
  database_down:
    severity: critical
    context: revenue_critical
    summary: "Database unreachable: {probe}"
    business_impact: No data access
    recovery_sla: 20m
  tenant_isolation_breach:
    severity: critical
    context: security
    fires_on: violation
    summary: "Tenant isolation failure: {probe}"
    business_impact: Multi-tenant data isolation failure - potential data breach
    recovery_sla: 5m
    stakeholder_message: "SECURITY ALERT: Data isolation systems failure detected"
    technical_message: "SECURITY CRITICAL: {error_details}"
defaults:
  interval: 1s
  timeout: 500ms
  failure_threshold: 2
  success_threshold: 1
targets:
  - name: zebra_user_management
    context: zebra_opportunity
    service: admin
    tenant: zebra_associates
    alert: zebra_admin_failure
    http: {url: API/api/v1/user-management, valid_status_codes: [200, 401, 403]}
  - name: customer_users
    context: revenue_critical
    service: customer_api
    tenant: marketedge
    alert: customer_api_failure
    http: {url: API/api/v1/users, valid_status_codes: [401]}
  - name: customer_organisations
    context: revenue_critical
    service: customer_api
    tenant: marketedge
    alert: customer_api_failure
    http: {url: API/api/v1/organisations, valid_status_codes: [401]}
  - name: public_features
    context: customer_experience
    service: features
    tenant: marketedge
    alert: features_failure
    # Were one failure enough, the target would stay failing for six runs: long enough for
    # Alertmanager to notify, so that the test of a single failure can fail; and after a fix,
    # past its first escalation's time, which the fix must stop all the same.
    success_threshold: 6
    http: {url: API/api/v1/features, valid_status_codes: [200]}
  - name: database
    context: revenue_critical
    service: database
    tenant: marketedge
    alert: database_down
    postgres: PG_DATABASE
  - name: tenant_isolation
    context: security
    service: isolation
    tenant: marketedge
    alert: tenant_isolation_breach
    depends_on: [database]
    failure_threshold: 1
    # Seen fixed 4 runs after the database: long enough for a symptom to page after the fix,
    # were it only muted while the database's alert fires.
    success_threshold: 4
    postgres: PG_ISOLATION
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
  security_webhook:
    webhook: {url: SINK/webhook/security_webhook}
  legal_email:
    email: {to: [legal@marketedge.example]}
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
    security: {receivers: [security_webhook, legal_email], group_wait: 0s}
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
    postgres: PostgresServer
    config: Config

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

    def ever(self, promql: str, seconds: float) -> list[dict[str, Any]]:
        """The series of `promql` that had a sample in the last `seconds`."""
        return self.stack.query(f"max_over_time(({promql})[{math.ceil(seconds)}s:1s])")

    def wait_unmuted(self) -> None:
        """Until no rule is quiet as a symptom of a dependency that failed, or under an alert
        that stood for its targets (generate/rules/symptoms.py, standins.py): a minute or so after
        a test of the database or of an outage."""
        seconds = max(quiet_seconds([t]) for t in self.config.targets)
        needed = sorted({d.name for t in self.config.targets for d in causes(self.config, t)})
        standing = sorted(
            {s.alertname for name in self.config.alerts for s in stand_ins(self.config, name)}
        )
        failed = f'business_probe_failing{{probe=~"{"|".join(needed)}"}} == 1'
        fired = f'ALERTS{{alertname=~"{"|".join(standing)}",alertstate="firing"}}'
        wait_for(
            lambda: not self.ever(f"{failed} or {fired}", seconds),
            timeout=seconds + 15,
            what="the rules quiet after a dependency or an outage to be able to fire again",
        )

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
    with (
        serve_app(app) as api,
        WebhookSink() as hooks,
        SmtpSink() as mail,
        PostgresServer(free_port()) as postgres,
    ):
        demo_database.create_roles(postgres, MONITOR_PASSWORD)
        demo_database.create_tenant_database(postgres, ISOLATION_DATABASE)
        secrets = directory / "secrets"
        secrets.mkdir()
        (secrets / "pg-password").write_text(MONITOR_PASSWORD)
        database = {
            "host": postgres.host,
            "port": postgres.port,
            "user": demo_database.MONITOR_USER,
            "password": {"file": str(secrets / "pg-password")},
            "database": ISOLATION_DATABASE,
        }
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
                PG_DATABASE=json.dumps({**database, "expect": 1}),
                PG_ISOLATION=json.dumps(
                    {
                        **database,
                        "rls": {"tables": ISOLATION["tables"]},
                        "tenant_isolation": ISOLATION,
                    }
                ),
            )
        )
        address = f"127.0.0.1:{free_port()}"
        options = StackOptions(address, f"{SCRAPE:g}s", f"{EVALUATION:g}s")
        config = parse_config(config_path.read_text())
        with (
            exporter_process(config_path, address, directory / "exporter.log") as exporter,
            started_stack(config, directory, options) as stack,
        ):
            running = Chain(stack, app.state.faults, hooks, mail, exporter, postgres, config)
            running.wait_quiet("Prometheus to scrape the healthy exporter")
            yield running


def _fill(text: str, **values: str) -> str:
    for name, value in values.items():
        text = text.replace(name, value)
    return text


@pytest.fixture
def chain_at_rest(chain: Chain) -> Iterator[Chain]:
    """The chain with no fault set and no alert active, before and after the test, and every
    rule able to fire."""
    chain.faults.reset()
    chain.wait_quiet("every alert to resolve")
    chain.wait_unmuted()
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
    # Every customer endpoint is down: now the whole-of alert is true, and says so.
    whole = chain.wait_notices(_firing(WHOLE_API_ALERT, start), {ONCALL})[ONCALL]
    assert "Every customer endpoint is down for marketedge" in whole.text, whole.text

    # The alerts that stand for both endpoints keep their own alerts quiet in Prometheus (and
    # Alertmanager mutes what reached it before), until the endpoints can be seen fixed.
    endpoint = f'ALERTS{{alertname="{CUSTOMER_ALERT}",alertstate="firing"}}'
    wait_for(lambda: not chain.stack.query(endpoint), timeout=10, what=f"{CUSTOMER_ALERT} quiet")
    # Had they reached Alertmanager unmuted with the outage, a group flushes group_wait after
    # its first alert, as the outage's did: they would be out within a scrape and an
    # evaluation of the outage's notification (a group_interval more for delivery).
    late = chain.hooks.matching_within(
        lambda p: _post_notice(p).alertname == CUSTOMER_ALERT,
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


def _firing(name: str, since: float) -> Callable[[Notice], bool]:
    return lambda n: n.alertname == name and n.status == "firing" and n.arrived > since


@pytest.mark.slow
def test_a_paused_database_pages_on_call_of_the_database_and_nobody_of_a_breach(
    chain_at_rest: Chain,
) -> None:
    chain = chain_at_rest
    pid = chain.postgres.pid
    assert pid is not None
    start = time.monotonic()
    os.kill(pid, signal.SIGSTOP)  # connections hang: every check of it times out
    try:
        database = chain.wait_notices(_firing(DATABASE_ALERT, start), {ONCALL})[ONCALL]
        assert "Database unreachable: database" in database.text, database.text
        known = time.monotonic()
        blind = 'business_probe_failing{probe="tenant_isolation"} == 1'
        wait_for(lambda: chain.stack.query(blind), timeout=15, what="tenant_isolation failing")
        # The isolation check could not run: not a breach, and a symptom of the database, so
        # quiet in Prometheus while the database fails, with its BusinessCannotVerify.
        quiet = chain.hooks.matching_within(
            lambda p: p.monotonic > start and _about_isolation(p),
            seconds=GROUP_WAIT_CRITICAL + GROUP_INTERVAL,
        )
        assert quiet == [], quiet
        firing = f'ALERTS{{alertname="{CANNOT_VERIFY}",alertstate="firing"}}'
        assert chain.ever(firing, time.monotonic() - known) == []
    finally:
        os.kill(pid, signal.SIGCONT)
    fixed = time.monotonic()
    # Fixed: the database's alert resolves after one run, tenant isolation after four, while
    # its rules stay quiet. Muted only while the database's alert fired, its
    # BusinessCannotVerify would reach on-call in between.
    isolation = chain.config.target("tenant_isolation")
    assert isolation is not None
    seen_fixed = isolation.success_threshold * isolation.interval + isolation.timeout
    late = chain.hooks.matching_within(
        lambda p: p.monotonic > fixed and _about_isolation(p),
        seconds=seen_fixed + SCRAPE + EVALUATION + GROUP_WAIT_CRITICAL + GROUP_INTERVAL,
    )
    assert late == [], late
    heard = [(n.receiver, n.alertname) for n in chain.notices(start)]
    assert not [h for h in heard if h[0] in SECURITY_RECEIVERS], heard
    assert not [h for h in heard if h[1] in (BREACH_ALERT, CANNOT_VERIFY)], heard
    assert chain.ever(f'ALERTS{{alertname="{BREACH_ALERT}"}}', time.monotonic() - start) == []


def _about_isolation(post: Post) -> bool:
    """A notification of tenant isolation, or one to the security receivers."""
    return _post_notice(post).alertname in (CANNOT_VERIFY, BREACH_ALERT) or "/security" in post.path


@pytest.mark.slow
def test_row_level_security_off_tells_security_at_once(chain_at_rest: Chain) -> None:
    chain = chain_at_rest
    server = chain.postgres
    start = time.monotonic()
    server.psql("ALTER TABLE users DISABLE ROW LEVEL SECURITY", ISOLATION_DATABASE)
    try:
        heard = chain.wait_notices(_firing(BREACH_ALERT, start), SECURITY_RECEIVERS | {ONCALL})
    finally:
        server.psql("ALTER TABLE users ENABLE ROW LEVEL SECURITY", ISOLATION_DATABASE)
    for receiver, notice in heard.items():
        assert "SECURITY ALERT: Data isolation systems failure detected" in notice.text, receiver
        assert "SECURITY CRITICAL: rls_disabled" in notice.text, (receiver, notice.text)
    # At once: a run (1 s), a scrape (1 s), an evaluation (1 s), no group_wait, delivery.
    delay = heard["security_webhook"].arrived - start
    assert delay < PROBE_INTERVAL + SCRAPE + EVALUATION + GROUP_INTERVAL + 2, delay
    assert [n for n in chain.notices(start) if n.alertname == CANNOT_VERIFY] == []


@pytest.mark.slow
def test_one_router_dropped_is_its_endpoint_alert_not_the_whole_api(chain_at_rest: Chain) -> None:
    chain = chain_at_rest
    start = time.monotonic()
    chain.faults.drop("users")  # one of the two routers of customer_api_down
    chain.wait_notices(_firing(CUSTOMER_ALERT, start), {ONCALL})
    # Had it fired with the endpoint's alert, it would be in Prometheus and on its way.
    late = chain.hooks.matching_within(
        lambda p: p.monotonic > start and _post_notice(p).alertname == WHOLE_API_ALERT,
        seconds=GROUP_WAIT_CRITICAL + GROUP_INTERVAL,
    )
    assert late == [], late
    assert chain.ever(f'ALERTS{{alertname="{WHOLE_API_ALERT}"}}', time.monotonic() - start) == []


@pytest.mark.slow
def test_a_fix_before_the_escalation_time_notifies_no_escalation(chain_at_rest: Chain) -> None:
    chain = chain_at_rest
    start = time.monotonic()
    chain.faults.error("/api/v1/features")
    level_0 = f'ALERTS{{alertname="{FEATURES_ALERT}",escalation_level="0",alertstate="firing"}}'
    wait_for(lambda: chain.stack.query(level_0), timeout=15, what=f"{FEATURES_ALERT} to fire")
    chain.faults.clear_error("/api/v1/features")  # fixed, well before ESCALATION_TIME
    fixed = time.monotonic()
    chain.wait_notices(_firing(FEATURES_ALERT, start), {"team_webhook"})
    # Still failing until 6 runs succeed, past the escalation's time; then resolved.
    wait_for(lambda: not chain.stack.query(level_0), timeout=20, what=f"{FEATURES_ALERT} to end")
    assert time.monotonic() - fixed > ESCALATION_TIME
    escalated = f'ALERTS{{alertname="{FEATURES_ALERT}",escalation_level="1",alertstate="firing"}}'
    assert chain.ever(escalated, time.monotonic() - start) == []
    assert [n for n in chain.notices(start) if n.receiver == "product_manager_email"] == []
