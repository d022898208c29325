"""The alerting rules as values: each case changes one field of a good config."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.config import Config, parse_config
from exporter.generate.model import AlertingRule
from exporter.generate.rules import messages
from exporter.generate.rules.alerts import alert_rule_files
from exporter.generate.ruletests.series import compress

GOOD = Path(__file__).parents[2] / "testdata" / "generate" / "in-escalation.yaml"
LOGIN_REFRESH = 'job="business_exporter",probe=~"login|refresh"'
QUIET_WHILE_LOGIN_FAILS = (
    "unless on (probe) (\n"
    '  business_probe_failing{{job="business_exporter",probe="isolation"}}\n'
    '    and on () max_over_time(business_probe_failing{{job="business_exporter",probe="login"}}'
    "[{window}]) == 1\n"
    ")"
)


def config_with(path: str, value: Any) -> Config:
    """The good config with one field, `a.b.0.c`, set to value (None removes it)."""
    data = yaml.safe_load(GOOD.read_text())
    *parents, last = [int(k) if k.isdigit() else k for k in path.split(".")]
    node = data
    for key in parents:
        node = node[key]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return parse_config(yaml.safe_dump(data))


def rules(config: Config, alertname: str) -> list[AlertingRule]:
    return [
        rule
        for rule_file in alert_rule_files(config)
        for group in rule_file.groups
        for rule in group.rules
        if isinstance(rule, AlertingRule) and rule.alert == alertname
    ]


def levels(config: Config) -> list[tuple[str, str, str]]:
    """(for, escalation_level, escalate_to) of each AuthFailure rule."""
    return [
        (r.for_, r.labels["escalation_level"], r.labels.get("escalate_to", ""))
        for r in rules(config, "AuthFailure")
    ]


def base(config: Config) -> AlertingRule:
    return rules(config, "AuthFailure")[0]


def outage_services(config: Config) -> list[str]:
    return [
        r.expr.split('service="')[1].split('"')[0] for r in rules(config, "BusinessServiceOutage")
    ]


Check = Callable[[Config], object]
CASES: list[tuple[str, str, Any, Check, object]] = [
    (
        "the good config escalates to each entry of the chain, escalation_time apart",
        "alerts.auth_failure.escalation_time",
        "3m",
        levels,
        [("", "0", "oncall_engineer"), ("3m", "1", "engineering_manager"), ("6m", "2", "cto")],
    ),
    (
        "a longer escalation_time delays every level",
        "alerts.auth_failure.escalation_time",
        "10m",
        levels,
        [("", "0", "oncall_engineer"), ("10m", "1", "engineering_manager"), ("20m", "2", "cto")],
    ),
    (
        "a chain of one entry has no escalation level",
        "alerts.auth_failure.escalation_chain",
        ["oncall_engineer"],
        levels,
        [("", "0", "oncall_engineer")],
    ),
    (
        "an empty chain has no escalation and no escalate_to label",
        "alerts.auth_failure.escalation_chain",
        [],
        levels,
        [("", "0", "")],
    ),
    (
        "severity high makes priority P2, on the alert and on its target's series",
        "alerts.isolation_breach.severity",
        "high",
        lambda c: (
            rules(c, "IsolationBreach")[0].labels["severity"],
            rules(c, "IsolationBreach")[0].labels["priority"],
            c.targets[3].static_labels()["severity"],
        ),
        ("high", "P2", "high"),
    ),
    (
        "the alert's context, not the target's, labels the alert",
        "alerts.auth_failure.context",
        "operational",
        lambda c: base(c).labels["context"],
        "operational",
    ),
    (
        "a target that no longer references the definition leaves its rule",
        "targets.1.alert",
        None,
        lambda c: base(c).expr.split("\n")[0],
        'business_probe_failing{job="business_exporter",probe="login"} == 1',
    ),
    (
        "a definition no target references has no rule",
        "targets.2.alert",
        None,
        lambda c: rules(c, "SlowApi"),
        [],
    ),
    (
        "a service left with one target per tenant has no outage alert",
        "targets.1.service",
        "refresh",
        outage_services,
        [],
    ),
    (
        "two targets of one service and tenant have an outage alert",
        "targets.2.tenant",
        "acme",
        outage_services,
        ["api", "auth"],
    ),
    (
        "an outage is as severe as the most severe alert of its targets",
        "targets.2.tenant",
        "acme",
        lambda c: [r.labels["severity"] for r in rules(c, "BusinessServiceOutage")],
        ["medium", "emergency"],
    ),
    (
        "a slow target widens the window of the failure reason",
        "targets.1.interval",
        "20m",
        lambda c: "[1h20m]" in base(c).annotations["description"],
        True,
    ),
    (
        "without a stakeholder_message the business impact speaks to stakeholders",
        "alerts.auth_failure.stakeholder_message",
        None,
        lambda c: base(c).annotations["stakeholder_message"],
        "No user can log in",
    ),
    (
        "a technical message without a reason gets one appended",
        "alerts.auth_failure.technical_message",
        "Auth is down",
        lambda c: (
            base(c)
            .annotations["technical_message"]
            .startswith("Auth is down Failure reason: {{ with printf `topk(1, increase(")
        ),
        True,
    ),
    (
        "recovery_eta is the recovery SLA in words",
        "alerts.auth_failure.recovery_sla",
        "2h",
        lambda c: base(c).annotations["stakeholder_message"],
        "Users locked out of {{ $labels.service }}. Recovery ETA: 2 hours",
    ),
    (
        "an escalation level also needs the last run to have failed; level 0 does not",
        "alerts.auth_failure.escalation_time",
        "3m",
        lambda c: [
            [line for line in r.expr.split("\n") if line.startswith("and ")]
            for r in rules(c, "AuthFailure")
        ],
        [[], *[[f"and business_probe_consecutive_failures{{{LOGIN_REFRESH}}} > 0"]] * 2],
    ),
    (
        "level 0 is quiet while an alert standing for its targets fires, and until the slowest "
        "can be seen fixed (2 runs 30s apart, a 10s timeout, a minute); escalations are not",
        "alerts.auth_failure.escalation_time",
        "3m",
        lambda c: [r.expr.split("\n")[1:] for r in rules(c, "AuthFailure")],
        [
            [
                "unless on (service, tenant) max_over_time(ALERTS{alertname="
                '"BusinessServiceOutage",alertstate="firing"}[2m10s]) == 1',
                'unless on (tenant) max_over_time(ALERTS{alertname="AuthDown",alertstate="firing"}'
                "[2m10s]) == 1",
            ],
            *[[f"and business_probe_consecutive_failures{{{LOGIN_REFRESH}}} > 0"]] * 2,
        ],
    ),
    (
        "fires_on violation reads business_probe_violation and adds BusinessCannotVerify",
        "alerts.isolation_breach.fires_on",
        "violation",
        # The lines before the quiet while login, which isolation depends on, fails.
        lambda c: (
            [r.expr.split("\n")[0] for r in rules(c, "IsolationBreach")][:1]
            + ["\n".join(r.expr.split("\n")[:2]) for r in rules(c, "BusinessCannotVerify")]
        ),
        [
            'business_probe_violation{job="business_exporter",probe="isolation"} == 1',
            'business_probe_failing{job="business_exporter",probe="isolation"} == 1\n'
            'unless business_probe_violation{job="business_exporter",probe="isolation"} == 1',
        ],
    ),
    (
        "fires_on failure fires on any failure and has no BusinessCannotVerify",
        "alerts.isolation_breach.fires_on",
        "failure",
        lambda c: (
            [r.expr.split("\n")[0] for r in rules(c, "IsolationBreach")][:1],
            rules(c, "BusinessCannotVerify"),
        ),
        (['business_probe_failing{job="business_exporter",probe="isolation"} == 1'], []),
    ),
    (
        "a dependent is quiet while its dependency fails and its own success_threshold runs, "
        "a timeout and a minute after",
        "targets.3.success_threshold",
        3,
        lambda c: [r.expr for r in rules(c, "IsolationBreach")],
        [
            'business_probe_violation{job="business_exporter",probe="isolation"} == 1\n'
            f"{QUIET_WHILE_LOGIN_FAILS.format(window='2m40s')}",  # 3 x 30s + 10s + 60s
            'business_probe_violation{job="business_exporter",probe="isolation"} == 1\n'
            'and business_probe_consecutive_failures{job="business_exporter",probe="isolation"}'
            " > 0\n"
            f"{QUIET_WHILE_LOGIN_FAILS.format(window='2m40s')}",
        ],
    ),
    (
        "a dependent's check that cannot run is quiet while its dependency fails",
        "targets.3.success_threshold",
        1,
        lambda c: rules(c, "BusinessCannotVerify")[0].expr.split("\n", 2)[2],
        QUIET_WHILE_LOGIN_FAILS.format(window="1m40s"),  # 30s + 10s + 60s
    ),
    (
        "without depends_on a target's rules are not quiet for another's failure",
        "targets.3.depends_on",
        None,
        lambda c: [r.expr for r in rules(c, "IsolationBreach")][:1],
        ['business_probe_violation{job="business_exporter",probe="isolation"} == 1'],
    ),
    (
        "BusinessCannotVerify is in the operational context, at the definition's severity",
        "alerts.isolation_breach.severity",
        "high",
        lambda c: {
            k: rules(c, "BusinessCannotVerify")[0].labels[k]
            for k in ("severity", "context", "unverified")
        },
        {"severity": "high", "context": "operational", "unverified": "IsolationBreach"},
    ),
    (
        "unverified_context routes a check that cannot run elsewhere",
        "alerts.isolation_breach.unverified_context",
        "security",
        lambda c: rules(c, "BusinessCannotVerify")[0].labels["context"],
        "security",
    ),
    (
        "BusinessCannotVerify waits as long as a dependency can take to be detected",
        "targets.0.interval",
        "1m",
        # login: 2 failed runs a minute apart, the last one timing out after 10s.
        lambda c: rules(c, "BusinessCannotVerify")[0].for_,
        "2m10s",
    ),
    (
        "without depends_on BusinessCannotVerify does not wait",
        "targets.3.depends_on",
        None,
        lambda c: rules(c, "BusinessCannotVerify")[0].for_,
        "",
    ),
    (
        "a whole-of alert counts the failing targets it covers per tenant against all of them",
        "alerts.auth_down.quorum",
        "100%",
        lambda c: rules(c, "AuthDown")[0].expr,
        f"count by (tenant) (business_probe_failing{{{LOGIN_REFRESH}}} == 1)\n"
        f">= count by (tenant) (business_probe_failing{{{LOGIN_REFRESH}}})",
    ),
    (
        "a quorum below 100% takes that share of them",
        "alerts.auth_down.quorum",
        "50%",
        lambda c: rules(c, "AuthDown")[0].expr.split("\n")[1],
        f">= count by (tenant) (business_probe_failing{{{LOGIN_REFRESH}}}) * 50 / 100",
    ),
    (
        "a whole-of alert carries the tenant, no probe",
        "alerts.auth_down.summary",
        "Auth down for {tenant}",
        lambda c: rules(c, "AuthDown")[0].annotations["summary"],
        "Auth down for {{ $labels.tenant }}",
    ),
    (
        "without a runbook_url there is no runbook annotation",
        "alerts.auth_failure.runbook_url",
        None,
        lambda c: "runbook_url" in base(c).annotations,
        False,
    ),
]


@pytest.mark.parametrize(
    ("path", "value", "check", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_one_field_changes_the_rules_as_expected(
    path: str, value: Any, check: Check, expected: object
) -> None:
    assert check(config_with(path, value)) == expected


def test_placeholders_become_labels_and_queries_of_the_firing_alert() -> None:
    annotations = base(config_with("alerts.auth_failure.escalation_time", "3m")).annotations
    assert annotations["runbook_url"] == "https://runbooks.example.com/{{ $labels.probe }}"
    technical = annotations["technical_message"]
    assert technical.startswith("AUTH FAILURE: {{ with printf `topk(1, increase(")
    runs = 'business_probe_runs_total{job="business_exporter",probe="%s",result!="success"}'
    assert f"increase({runs}[5m]) > 0 or ({runs} unless {runs} offset 5m)" in technical
    assert "business_probe_revenue_at_risk" in annotations["revenue_at_risk"]


@pytest.mark.parametrize(
    ("value", "text"),
    [(925000, "925k"), (1250000.5, "1.25M"), (0, "0"), (1, "1"), (999.5, "999.5"), (0.25, "250m")],
)
def test_humanize_prints_as_prometheus_does(value: float, text: str) -> None:
    assert messages.humanize(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(600, "10 minutes"), (3600, "1 hour"), (90, "90 seconds"), (86400 * 2, "2 days")],
)
def test_durations_are_spoken(seconds: float, text: str) -> None:
    assert messages.spoken_duration(seconds) == text


def test_series_values_use_promtool_expanding_notation() -> None:
    assert compress([None, None, 1, 2, 3, 3, 3, 0.5]) == "_ _ 1+1x2 3x1 0.5"
    assert compress([5, 4, 3]) == "5-1x2"
