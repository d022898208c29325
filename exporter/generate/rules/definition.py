"""What every rule of an alert definition shares: its targets, levels, labels and texts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from exporter import conventions as c
from exporter.config import Alert, Config, Target, format_duration
from exporter.generate.rules import messages as m

# The reason annotation looks this far back at least; longer for slow or patient targets.
MIN_REASON_WINDOW = 300.0

DESCRIPTION = (
    "Probe {probe} of service {service} (tenant {tenant}) is failing: "
    "most frequent failure reason {reason}."
)
TECHNICAL = "{probe} is failing: {reason}."


def targets_of(config: Config, name: str) -> list[Target]:
    """The targets that reference alert definition `name`, in config order."""
    return [t for t in config.targets if t.alert == name]


def members(config: Config, name: str) -> list[Target]:
    """The targets a definition's rules watch: its own, or those of the alert it covers."""
    alert = config.alerts[name]
    return targets_of(config, alert.covers if alert.covers is not None else name)


def probe_matcher(targets: Sequence[Target]) -> str:
    names = sorted(t.name for t in targets)
    if len(names) == 1:
        return m.matcher(c.LABEL_PROBE, names[0])
    # names are [a-zA-Z0-9_]: nothing to escape in the regex
    return m.matcher(c.LABEL_PROBE, "|".join(names), "=~")


def failing_expr(
    targets: Sequence[Target], metric: str = c.PROBE_FAILING, *, escalated: bool = False
) -> str:
    """`metric == 1` on the targets; escalated, only while their last run failed."""
    probe = probe_matcher(targets)
    expr = m.job_selector(metric, probe) + " == 1"
    if escalated:
        expr += f"\nand {m.job_selector(c.PROBE_CONSECUTIVE_FAILURES, probe)} > 0"
    return expr


def escalation_for(alert: Alert, level: int) -> str:
    """`for` of a level: none for level 0, level x escalation_time after it."""
    if level == 0 or alert.escalation_time is None:
        return ""
    return format_duration(level * alert.escalation_time)


def levels(alert: Alert) -> range:
    """Level 0, then one level per further entry of the chain when there is an escalation_time."""
    if alert.escalation_time is None:
        return range(1)
    return range(max(1, len(alert.escalation_chain)))


def reason_window(targets: Sequence[Target]) -> str:
    """Long enough to hold the failed runs that made each target failing, and one more."""
    longest = max(t.interval * (t.failure_threshold + 1) for t in targets)
    return format_duration(max(MIN_REASON_WINDOW, longest))


def rule_labels(alert: Alert, level: int) -> dict[str, str]:
    labels = {
        c.LABEL_SEVERITY: alert.severity,
        c.LABEL_CONTEXT: alert.context,
        c.LABEL_PRIORITY: c.PRIORITIES[alert.severity],
        c.LABEL_ESCALATION_LEVEL: str(level),
    }
    if alert.escalation_chain:
        labels[c.LABEL_ESCALATE_TO] = alert.escalation_chain[level]
    return labels


def reasons_of(alert: Alert) -> tuple[str, ...]:
    """The failure reasons {reason} picks from: a violation alert names a violation."""
    return c.VIOLATION_REASONS if alert.fires_on == "violation" else ()


def template_fill(alert: Alert, window: str, results: Sequence[str] = ()) -> dict[str, str]:
    """Each placeholder as the Go template fragment Prometheus expands when the alert fires;
    {reason} is the most frequent of `results` (of any failure reason when empty)."""
    revenue = m.job_selector(c.PROBE_REVENUE_AT_RISK, m.matcher(c.LABEL_PROBE, "%s"))
    reason = m.reason_template(window, results=results)
    return placeholder_values(
        labels={name: m.label(name) for name in ("probe", "service", "tenant", "tier")},
        reason=reason,
        revenue=m.money_template(f"max by ({c.LABEL_CURRENCY}) ({revenue})", "probe"),
        alert=alert,
    )


def placeholder_values(
    labels: Mapping[str, str], reason: str, revenue: str, alert: Alert
) -> dict[str, str]:
    """The value of every message placeholder, from the probe's labels and what was seen."""
    sla = m.spoken_duration(alert.recovery_sla)
    return {
        **{name: labels.get(name, "") for name in ("probe", "service", "tenant", "tier")},
        "reason": reason,
        "error_details": reason,
        "revenue_at_risk": revenue,
        "recovery_sla": sla,
        "recovery_eta": sla,
    }


def definition_annotations(
    name: str, alert: Alert, level: int, fill: Mapping[str, str]
) -> dict[str, str]:
    """The annotations of a definition's rule at `level`, placeholders filled from `fill`."""
    summary = f"{name.replace('_', ' ').capitalize()}: {{probe}} is failing"
    return level_annotations(alert, level, fill, summary, DESCRIPTION, TECHNICAL)


def level_annotations(
    alert: Alert,
    level: int,
    fill: Mapping[str, str],
    summary: str,
    description: str,
    technical: str,
) -> dict[str, str]:
    """The annotations of a rule of `alert` at `level`: the alert's own texts where it has
    them, else the given ones; placeholders filled from `fill`."""
    summary = alert.summary or summary
    if level:
        summary = f"Escalated to {alert.escalation_chain[level]} (level {level}): {summary}"
    technical = alert.technical_message or technical
    if not {"{reason}", "{error_details}"} & set(m.placeholders(technical)):
        technical += " Failure reason: {reason}."
    out = {
        c.ANNOTATION_SUMMARY: summary,
        c.ANNOTATION_DESCRIPTION: description,
        c.ANNOTATION_STAKEHOLDER: alert.stakeholder_message or alert.business_impact,
        c.ANNOTATION_TECHNICAL: technical,
        c.ANNOTATION_BUSINESS_IMPACT: alert.business_impact,
        c.ANNOTATION_REVENUE_AT_RISK: "{revenue_at_risk}",
        c.ANNOTATION_RECOVERY_SLA: "{recovery_sla}",
    }
    if alert.runbook_url:
        out[c.ANNOTATION_RUNBOOK_URL] = alert.runbook_url
    return {key: m.substitute(text, fill) for key, text in out.items()}
