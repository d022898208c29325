"""Whole-of alerts: "the API is down" said only when it is.

A definition with `covers: OTHER` watches the targets that reference OTHER. It fires per
tenant while at least `quorum` percent of that tenant's ones fail at once, never for one of
them alone: one router dropped is OTHER's alert for that endpoint, the API down is this one.
While it fires, Alertmanager mutes OTHER's level-0 alerts of that tenant (alertmanager/files.py).

The quorum is compared as counts, `failing >= total * quorum / 100`, with a whole percentage:
both sides are exact in floating point whenever the share is a whole number of targets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from exporter import conventions as c
from exporter.config import Alert, Config, Target
from exporter.generate.model import AlertingRule
from exporter.generate.rules import messages as m
from exporter.generate.rules.definition import (
    escalation_for,
    level_annotations,
    levels,
    members,
    probe_matcher,
    reason_window,
    rule_labels,
)

DESCRIPTION = (
    "{failing} targets of {covered} fail at once for tenant {tenant}, at least {quorum}% of "
    "them: most frequent failure reason {reason}."
)
TECHNICAL = "{covered} fails on {failing} targets of tenant {tenant} at once: {reason}."


def whole_rules(config: Config, name: str) -> tuple[AlertingRule, ...]:
    """The base rule of a whole-of definition, then one per escalation level."""
    alert, targets = config.alerts[name], members(config, name)
    fill = whole_fill(alert, targets, reason_window(targets))
    return tuple(
        AlertingRule(
            alert=c.alert_name(name),
            expr=whole_expr(alert, targets, escalated=level > 0),
            for_=escalation_for(alert, level),
            labels=rule_labels(alert, level),
            annotations=whole_annotations(name, alert, level, fill),
        )
        for level in levels(alert)
    )


def whole_expr(alert: Alert, targets: Sequence[Target], *, escalated: bool) -> str:
    """Failing targets per tenant, compared with the quorum of that tenant's targets; escalated,
    only those whose last run failed count."""
    probe = probe_matcher(targets)
    failing = m.job_selector(c.PROBE_FAILING, probe)
    down = f"{failing} == 1"
    if escalated:
        down += f" and {m.job_selector(c.PROBE_CONSECUTIVE_FAILURES, probe)} > 0"
    needed = f"count by ({c.LABEL_TENANT}) ({failing})"
    if alert.quorum != 100:
        needed += f" * {alert.quorum} / 100"
    return f"count by ({c.LABEL_TENANT}) ({down})\n>= {needed}"


def whole_fill(alert: Alert, targets: Sequence[Target], window: str) -> dict[str, str]:
    """Each placeholder as the template fragment Prometheus expands, for the alert's tenant."""
    probe, tenant = probe_matcher(targets), m.matcher(c.LABEL_TENANT, "%s")
    revenue = m.job_selector(c.PROBE_REVENUE_AT_RISK, probe, tenant)
    reason = m.reason_template(window, (probe, tenant), (c.LABEL_TENANT,))
    return whole_values(
        alert,
        tenant=m.label(c.LABEL_TENANT),
        failing="{{ $value }}",
        reason=reason,
        # max, not sum: the targets of one definition guard the same revenue.
        revenue=m.money_template(f"max by ({c.LABEL_CURRENCY}) ({revenue})", c.LABEL_TENANT),
    )


def whole_values(
    alert: Alert, *, tenant: str, failing: str, reason: str, revenue: str
) -> dict[str, str]:
    """The value of every placeholder a whole-of text may use, and of the generated ones."""
    sla = m.spoken_duration(alert.recovery_sla)
    return {
        "tenant": tenant,
        "failing": failing,
        "covered": c.alert_name(alert.covers or ""),
        "quorum": str(alert.quorum),
        "reason": reason,
        "error_details": reason,
        "revenue_at_risk": revenue,
        "recovery_sla": sla,
        "recovery_eta": sla,
    }


def whole_annotations(
    name: str, alert: Alert, level: int, fill: Mapping[str, str]
) -> dict[str, str]:
    """The annotations of a whole-of rule at `level`, placeholders filled from `fill`."""
    summary = f"{name.replace('_', ' ').capitalize()} for tenant {{tenant}}"
    return level_annotations(alert, level, fill, summary, DESCRIPTION, TECHNICAL)
