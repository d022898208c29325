"""BusinessCannotVerify: a check that fires on violations only could not run.

A definition with `fires_on: violation` (a breach, routes missing) says something that only a
check that ran can know. While its target fails without having found a violation (timeouts,
refused connections or credentials: conventions.REASON_OUTCOMES), this alert fires instead, at
the definition's severity, in its `unverified_context` (by default `operational`): on-call hears
that the check is blind, and the receivers of the definition's own context (security, legal)
hear nothing unless the config routes that context there. It has no escalation levels.

It waits for the target's dependencies to be detected (dependencies.hold_seconds): when the
database is down, the database's alert pages, and this one is muted before it is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from exporter import conventions as c
from exporter.config import Alert, Config, Target, format_duration
from exporter.generate.alertmanager.inhibition import hold_seconds
from exporter.generate.model import AlertingRule
from exporter.generate.rules import messages as m
from exporter.generate.rules.definition import probe_matcher, template_fill

ANNOTATIONS = {
    c.ANNOTATION_SUMMARY: "Cannot verify {probe}: its check could not run ({reason})",
    c.ANNOTATION_DESCRIPTION: (
        "Probe {probe} of service {service} (tenant {tenant}) fails without running its check: "
        "most frequent failure reason {reason}. {alertname} can neither fire nor be ruled out "
        "until the check runs again."
    ),
    c.ANNOTATION_STAKEHOLDER: (
        "Monitoring cannot currently verify {probe}. No problem has been found; none can be "
        "ruled out until the check runs again."
    ),
    c.ANNOTATION_TECHNICAL: (
        "{probe} could not run its check: {reason}. Restore what the check needs (connection, "
        "credentials, an answer in time); {alertname} fires if it then finds the problem."
    ),
    c.ANNOTATION_BUSINESS_IMPACT: "Unknown: {alertname} cannot be checked",
    c.ANNOTATION_REVENUE_AT_RISK: "{revenue_at_risk}",
    c.ANNOTATION_RECOVERY_SLA: "{recovery_sla}",
}


def cannot_verify_rule(
    config: Config, name: str, targets: Sequence[Target], window: str
) -> AlertingRule:
    """Failing without a violation, on the definition's targets, once the hold has passed."""
    alert, probe = config.alerts[name], probe_matcher(targets)
    fill = template_fill(alert, window, c.UNVERIFIED_REASONS)
    failing = m.job_selector(c.PROBE_FAILING, probe)
    violation = m.job_selector(c.PROBE_VIOLATION, probe)
    hold = hold_seconds(config, targets)
    return AlertingRule(
        alert=c.ALERT_CANNOT_VERIFY,
        expr=f"{failing} == 1\nunless {violation} == 1",
        for_=format_duration(hold) if hold else "",
        labels=cannot_verify_labels(name, alert),
        annotations=cannot_verify_annotations(name, alert, fill),
    )


def cannot_verify_labels(name: str, alert: Alert) -> dict[str, str]:
    return {
        c.LABEL_SEVERITY: alert.severity,
        c.LABEL_CONTEXT: alert.unverified_context or c.SELF_CONTEXT,
        c.LABEL_PRIORITY: c.PRIORITIES[alert.severity],
        c.LABEL_ESCALATION_LEVEL: "0",
        c.LABEL_UNVERIFIED: c.alert_name(name),
    }


def cannot_verify_annotations(name: str, alert: Alert, fill: Mapping[str, str]) -> dict[str, str]:
    """The annotations, from the same placeholder values as the definition's own rule."""
    values = {**fill, "alertname": c.alert_name(name)}
    out = {key: m.substitute(text, values) for key, text in ANNOTATIONS.items()}
    if alert.runbook_url:
        out[c.ANNOTATION_RUNBOOK_URL] = m.substitute(alert.runbook_url, values)
    return out
