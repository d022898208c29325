"""Routing test cases: a label set for every alert the generated rules can fire, and its receivers.

The label sets come from the rule builders themselves, so they are what Prometheus sends:
each alert definition at each escalation level (on its first target's labels), each service
outage, each self-monitoring alert and each burn-rate alert (on the first tier and a tenant of
it). Routing reads only alertname, severity, context and the escalation labels, so one target,
tier or tenant stands for the others. The receivers are the policy's (`expected_receivers`),
not the tree's: the tests hold the tree to what the config says.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from exporter import conventions as c
from exporter.config import Config
from exporter.generate.alertmanager.maintenance import expected_mutes, maintenance_cases
from exporter.generate.alertmanager.model import RoutingCase
from exporter.generate.alertmanager.routes import expected_receivers
from exporter.generate.model import AlertingRule, RuleGroup
from exporter.generate.rules.alerts import definition_rules, fired_definitions
from exporter.generate.rules.app import app_group
from exporter.generate.rules.burn import burn_group
from exporter.generate.rules.definition import members
from exporter.generate.rules.outage import outage_group
from exporter.generate.rules.predict import predict_group
from exporter.generate.rules.selfmon import self_monitoring_group


def routing_cases(config: Config) -> tuple[RoutingCase, ...]:
    """One case per alert label set, named after the alert, in rule-file order; then one per
    maintenance scope (alertmanager/maintenance.py)."""
    cases = tuple(
        RoutingCase(
            name, labels, expected_receivers(config, labels), expected_mutes(config, labels)
        )
        for name, labels in alert_label_sets(config)
    )
    return cases + maintenance_cases(config, cases)


def alert_label_sets(config: Config) -> Iterator[tuple[str, dict[str, str]]]:
    """(name, labels) of a representative of every alert the bundle's rules fire."""
    for definition in fired_definitions(config):
        first = members(config, definition)[0]
        whole = config.alerts[definition].covers is not None
        # A whole-of alert carries its tenant only; the others, their target's labels.
        series = {c.LABEL_TENANT: first.tenant} if whole else first.static_labels()
        for rule in definition_rules(config, definition):
            labels = alert_labels(rule, series)
            yield _level_name(labels), labels
    for rule in _alerting(outage_group(config)):
        labels = alert_labels(rule)
        where = f"{labels.get(c.LABEL_SERVICE, '')}/{labels.get(c.LABEL_TENANT, '')}"
        yield f"{rule.alert} {where}", labels
    for rule in _alerting(self_monitoring_group()):
        yield rule.alert, alert_labels(rule)
    for rule in _alerting(app_group(config)):  # the in-app integration's, with an `app:` block
        yield rule.alert, alert_labels(rule)
    first_tenant = {t.tier: name for name, t in reversed(config.tenants.items())}
    seen: set[str] = set()
    for rule in [*_alerting(burn_group(config)), *_alerting(predict_group(config))]:
        if rule.alert not in seen:  # one tier stands for the others: routing ignores the tier
            seen.add(rule.alert)
            tenant = first_tenant.get(rule.labels.get(c.LABEL_TIER, ""), "")
            yield rule.alert, alert_labels(rule, {c.LABEL_TENANT: tenant})


def _alerting(group: RuleGroup | None) -> Iterator[AlertingRule]:
    for rule in group.rules if group is not None else ():
        if isinstance(rule, AlertingRule):
            yield rule


def alert_labels(rule: AlertingRule, series: Mapping[str, str] | None = None) -> dict[str, str]:
    """What the alert carries: the series' labels, the rule's over them, and its name.
    Prometheus drops labels with empty values, and so does this."""
    labels = {**(series or {}), **rule.labels, "alertname": rule.alert}
    return {name: value for name, value in sorted(labels.items()) if value}


def _level_name(labels: Mapping[str, str]) -> str:
    if c.LABEL_UNVERIFIED in labels:
        return f"{labels['alertname']} {labels[c.LABEL_UNVERIFIED]}"
    level = labels.get(c.LABEL_ESCALATION_LEVEL, "0")
    name = f"{labels['alertname']} level {level}"
    if level != "0" and c.LABEL_ESCALATE_TO in labels:
        name += f" to {labels[c.LABEL_ESCALATE_TO]}"
    return name
