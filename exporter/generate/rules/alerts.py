"""Alerting rules: one per alert definition and escalation level, the outage and self-monitoring.

A definition's rule fires while `business_probe_failing` is 1 on one of the targets that
reference it (`business_probe_violation`, for one that fires on violations only: see
rules/unverified.py for what fires when such a check cannot run). The exporter already applies
failure_threshold and success_threshold, so the base rule has no `for`. Escalation level N
(N >= 1) is the same rule with `for: N x escalation_time`, labelled `escalation_level: "N"` and
`escalate_to: escalation_chain[N]`; level 0 goes to escalation_chain[0], the first responder.
Alertmanager routes on these labels. An escalation also needs the last run to have failed
(`business_probe_consecutive_failures > 0`): once a run succeeds, the failure is being fixed, and
no one more is told of it, though `failing` waits for success_threshold before it clears.
A definition that `covers` another fires per tenant (rules/whole.py). The rules of a target that
depends on another are quiet while that one fails, and until they can be seen fixed
(rules/symptoms.py); level 0 likewise while an outage or whole-of alert stands for it (standins.py).
"""

from __future__ import annotations

from dataclasses import replace

from exporter import conventions as c
from exporter.config import Config
from exporter.generate.model import AlertingRule, RuleFile, RuleGroup
from exporter.generate.rules.definition import (
    definition_annotations,
    escalation_for,
    failing_expr,
    levels,
    members,
    reason_window,
    reasons_of,
    rule_labels,
    targets_of,
    template_fill,
)
from exporter.generate.rules.maintenance import quiet_in_windows
from exporter.generate.rules.outage import outage_group
from exporter.generate.rules.selfmon import self_monitoring_group
from exporter.generate.rules.standins import quiet_under_stand_ins
from exporter.generate.rules.symptoms import quiet_per_probe, quiet_per_tenant
from exporter.generate.rules.unverified import cannot_verify_rule
from exporter.generate.rules.whole import whole_rules

ALERTS_FILE = "alerts"
OUTAGE_FILE = "outage"
SELF_MONITORING_FILE = "self-monitoring"


def alert_rule_files(config: Config) -> list[RuleFile]:
    """rules/alerts, rules/outage (when a service has several targets), rules/self-monitoring."""
    groups = tuple(
        RuleGroup(c.GROUP_ALERT_PREFIX + name, definition_rules(config, name))
        for name in fired_definitions(config)
    )
    files = [RuleFile(ALERTS_FILE, groups)] if groups else []
    outage = outage_group(config)
    if outage is not None:
        files.append(RuleFile(OUTAGE_FILE, (outage,)))
    files.append(RuleFile(SELF_MONITORING_FILE, (self_monitoring_group(),)))
    return files


def fired_definitions(config: Config) -> list[str]:
    """The definitions that have rules: those with targets, or covering some, in config order."""
    return [name for name in config.alerts if members(config, name)]


def definition_rules(config: Config, name: str) -> tuple[AlertingRule, ...]:
    """The base rule of a definition, then one rule per escalation level (and, for one that
    fires on violations, the rule for a check that cannot run); all quiet in maintenance and
    while a cause of their targets fails (rules/symptoms.py), level 0 also while an alert standing
    for its targets fires (standins.py)."""
    alert = config.alerts[name]
    rules = whole_rules(config, name) if alert.covers is not None else _level_rules(config, name)
    targets = members(config, name)

    def quiet(rule: AlertingRule) -> str:
        expr = quiet_in_windows(config, targets, rule.expr)
        if alert.covers is not None:
            return quiet_per_tenant(config, targets, alert.severity, expr)
        expr = quiet_per_probe(config, targets, expr)
        if rule.labels.get(c.LABEL_ESCALATION_LEVEL) == "0":
            expr = quiet_under_stand_ins(config, name, expr)
        return expr

    return tuple(replace(rule, expr=quiet(rule)) for rule in rules)


def _level_rules(config: Config, name: str) -> tuple[AlertingRule, ...]:
    alert = config.alerts[name]
    targets = targets_of(config, name)
    window = reason_window(targets)
    fill = template_fill(alert, window, reasons_of(alert))
    metric = c.PROBE_VIOLATION if alert.fires_on == "violation" else c.PROBE_FAILING
    rules = tuple(
        AlertingRule(
            alert=c.alert_name(name),
            expr=failing_expr(targets, metric, escalated=level > 0),
            for_=escalation_for(alert, level),
            labels=rule_labels(alert, level),
            annotations=definition_annotations(name, alert, level, fill),
        )
        for level in levels(alert)
    )
    if alert.fires_on == "violation":
        rules += (cannot_verify_rule(config, name, targets, window),)
    return rules
