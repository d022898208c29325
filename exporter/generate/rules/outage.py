"""The service outage alert: every probe of a service fails, for one tenant.

One rule per service and tenant, because a tenant can lose a service that others still have,
and because what the outage means (severity, context) depends on that tenant's targets: the
admin service of the Zebra tenant is the Zebra opportunity. Only for groups of at least two
targets: with one, the outage would repeat that target's own alert, and Alertmanager, which
inhibits the per-endpoint alerts of a service in outage, would replace the definition's
specific message with a generic one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from exporter import conventions as c
from exporter.config import Config, Target
from exporter.generate.model import AlertingRule, RuleGroup
from exporter.generate.rules import messages as m
from exporter.generate.rules.maintenance import quiet_in_windows
from exporter.generate.rules.symptoms import quiet_together

_BY = f"{c.LABEL_SERVICE}, {c.LABEL_TENANT}"
ANNOTATIONS = {
    c.ANNOTATION_SUMMARY: "Service {service} is down for tenant {tenant}: all {count} probes fail",
    c.ANNOTATION_DESCRIPTION: (
        "Every probe of service {service} for tenant {tenant} is failing ({count} probes). "
        "This alert stands for the per-endpoint alerts of the service, which Alertmanager "
        "inhibits while it fires."
    ),
    c.ANNOTATION_STAKEHOLDER: "Service {service} is completely unavailable for tenant {tenant}.",
    c.ANNOTATION_TECHNICAL: (
        "All {count} probes of service {service} (tenant {tenant}) are failing: look at the "
        "service as a whole (process, deployment, routing) before its endpoints."
    ),
    c.ANNOTATION_BUSINESS_IMPACT: "Complete outage of service {service} for tenant {tenant}",
    c.ANNOTATION_REVENUE_AT_RISK: "{revenue_at_risk}",
}


@dataclass(frozen=True, slots=True)
class Outage:
    """A service and tenant that can be completely down, and what that means."""

    service: str
    tenant: str
    severity: str
    context: str
    targets: tuple[Target, ...]


def outages(config: Config) -> list[Outage]:
    """Each (service, tenant) with at least two targets, in that order."""
    groups: dict[tuple[str, str], tuple[Target, ...]] = {}
    for target in config.targets:
        key = (target.service, target.tenant)
        groups[key] = (*groups.get(key, ()), target)
    return [
        _outage(config, service, tenant, targets)
        for (service, tenant), targets in sorted(groups.items())
        if len(targets) > 1
    ]


def _outage(config: Config, service: str, tenant: str, targets: tuple[Target, ...]) -> Outage:
    """The most severe meaning among the targets; the first in config order on a tie."""
    meanings = [_severity_and_context(config, t) for t in targets]
    severity, context = min(meanings, key=lambda sc: c.SEVERITIES.index(sc[0]))
    return Outage(service, tenant, severity, context, targets)


def _severity_and_context(config: Config, target: Target) -> tuple[str, str]:
    """What a failure of the target means: its alert definition's if it has one, else its own.
    A check that fires on violations only says nothing of one when all else fails with it: it
    counts in the context of its could-not-check alert."""
    alert = config.alerts.get(target.alert) if target.alert else None
    if alert is None:
        return target.severity, target.context
    if alert.fires_on == "violation":
        return alert.severity, alert.unverified_context or c.SELF_CONTEXT
    return alert.severity, alert.context


def outage_group(config: Config) -> RuleGroup | None:
    """The outage rules, quiet in maintenance and while a cause of all their targets fails."""
    rules = tuple(
        replace(rule, expr=_quiet(config, outage, rule.expr))
        for outage in outages(config)
        for rule in [outage_rule(outage)]
    )
    return RuleGroup(c.GROUP_SERVICE_OUTAGE, rules) if rules else None


def _quiet(config: Config, outage: Outage, expr: str) -> str:
    expr = quiet_in_windows(config, outage.targets, expr)
    return quiet_together(config, outage.targets, outage.severity, expr)


def outage_rule(outage: Outage) -> AlertingRule:
    failing = m.job_selector(
        c.PROBE_FAILING,
        m.matcher(c.LABEL_SERVICE, outage.service),
        m.matcher(c.LABEL_TENANT, outage.tenant),
    )
    # As many failing as there are probes, and more than one probe: the value is the count.
    expr = f"(\n  count by ({_BY}) ({failing} == 1)\n  == count by ({_BY}) ({failing})\n) > 1"
    return AlertingRule(
        alert=c.ALERT_SERVICE_OUTAGE,
        expr=expr,
        labels={
            c.LABEL_SEVERITY: outage.severity,
            c.LABEL_CONTEXT: outage.context,
            c.LABEL_PRIORITY: c.PRIORITIES[outage.severity],
            c.LABEL_ESCALATION_LEVEL: "0",
            # What the expression yields anyway; set here so that promtool's lint does not
            # take the rules of two services with the same severity for duplicates.
            c.LABEL_SERVICE: outage.service,
            c.LABEL_TENANT: outage.tenant,
        },
        annotations=outage_annotations(_template_fill()),
    )


def _template_fill() -> dict[str, str]:
    revenue = m.job_selector(
        c.PROBE_REVENUE_AT_RISK, m.matcher(c.LABEL_SERVICE, "%s"), m.matcher(c.LABEL_TENANT, "%s")
    )
    return {
        "service": m.label(c.LABEL_SERVICE),
        "tenant": m.label(c.LABEL_TENANT),
        "count": "{{ $value }}",
        "revenue_at_risk": m.money_template(
            # max, not sum: the probes of one service guard the same revenue.
            f"max by ({c.LABEL_CURRENCY}) ({revenue})",
            c.LABEL_SERVICE,
            c.LABEL_TENANT,
        ),
    }


def outage_annotations(fill: Mapping[str, str]) -> dict[str, str]:
    return {key: m.substitute(text, fill) for key, text in ANNOTATIONS.items()}
