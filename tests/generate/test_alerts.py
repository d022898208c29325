"""The alerting rules as values: each case changes one field of a good config."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.config import Config, parse_config
from exporter.generate import messages
from exporter.generate.alerts import alert_rule_files
from exporter.generate.model import AlertingRule
from exporter.generate.series import compress

GOOD = Path(__file__).parents[1] / "testdata" / "generate" / "in-escalation.yaml"


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
        "severity critical makes priority P1",
        "alerts.auth_failure.severity",
        "critical",
        lambda c: (base(c).labels["severity"], base(c).labels["priority"]),
        ("critical", "P1"),
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
        lambda c: base(c).expr,
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
