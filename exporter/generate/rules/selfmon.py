"""Self-monitoring: the exporter down or missing, probes stale, a failed reload, the Watchdog.

An exporter nobody watches is the silent failure again: when it is down or its probes stop
running, every business alert is blind. These rules say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from exporter import conventions as c
from exporter.generate.model import AlertingRule, RuleGroup
from exporter.generate.rules import messages as m

DOWN_FOR = "1m"
ABSENT_FOR = "2m"
STALE_INTERVALS = 3


@dataclass(frozen=True, slots=True)
class SelfAlert:
    """One self-monitoring rule: annotations use {instance} and {probe} placeholders."""

    alert: str
    expr: str
    severity: str
    annotations: dict[str, str]
    for_: str = ""


def _stale_expr() -> str:
    last_run = m.job_selector(c.PROBE_LAST_RUN)
    interval = m.job_selector(c.PROBE_INTERVAL)
    loaded = m.job_selector(c.CONFIG_RELOAD_TIMESTAMP)
    # A probe that ran, but not in the three intervals before the last scrape; or one that
    # never ran although the config that holds it was loaded more than three intervals ago.
    # The age is taken at scrape time (timestamp()): at evaluation time it would also hold up
    # to a scrape interval of delay, and probes faster than scrapes would look stale.
    return (
        f"(timestamp({last_run}) - {last_run}) > {STALE_INTERVALS} * {interval}\n"
        f"or (\n"
        f"  {STALE_INTERVALS} * {interval}\n"
        f"    < on (job, instance) group_left () (time() - {loaded})\n"
        f"  unless on (job, instance, {c.LABEL_PROBE}) {last_run}\n"
        f")"
    )


SELF_ALERTS = (
    SelfAlert(
        c.ALERT_EXPORTER_DOWN,
        f"{m.job_selector('up')} == 0",
        "critical",
        {
            c.ANNOTATION_SUMMARY: "business_exporter {instance} is down",
            c.ANNOTATION_DESCRIPTION: (
                "Prometheus cannot scrape the exporter at {instance}: no business probe alert "
                "of its targets can fire until it is back."
            ),
        },
        for_=DOWN_FOR,
    ),
    SelfAlert(
        c.ALERT_EXPORTER_ABSENT,
        f"absent({m.job_selector('up')})",
        "critical",
        {
            c.ANNOTATION_SUMMARY: f"No {c.EXPORTER_JOB} scrape target in Prometheus",
            c.ANNOTATION_DESCRIPTION: (
                f"Prometheus has no target in job {c.EXPORTER_JOB}: no business probe is "
                "watched at all. Check the scrape config."
            ),
        },
        for_=ABSENT_FOR,
    ),
    SelfAlert(
        c.ALERT_PROBE_STALE,
        _stale_expr(),
        "high",
        {
            c.ANNOTATION_SUMMARY: "Probe {probe} has not run for three of its intervals",
            c.ANNOTATION_DESCRIPTION: (
                "The exporter at {instance} has not finished a run of probe {probe} in more "
                "than three intervals: its series are stale and its alerts cannot fire."
            ),
        },
    ),
    SelfAlert(
        c.ALERT_CONFIG_RELOAD_FAILED,
        f"{m.job_selector(c.CONFIG_RELOAD_SUCCESSFUL)} == 0",
        "medium",
        {
            c.ANNOTATION_SUMMARY: "business_exporter {instance} refused its new config",
            c.ANNOTATION_DESCRIPTION: (
                "The last config reload of the exporter at {instance} failed: it keeps probing "
                "with the previous config. Its log says why; `business-exporter check` too."
            ),
        },
    ),
    SelfAlert(
        c.ALERT_WATCHDOG,
        "vector(1)",
        "info",
        {
            c.ANNOTATION_SUMMARY: "Always firing: the alerting pipeline is alive",
            c.ANNOTATION_DESCRIPTION: (
                "This alert always fires. If a dead man's switch stops receiving it, Prometheus "
                "or Alertmanager is broken, and so is every business alert."
            ),
        },
    ),
)


def self_monitoring_group() -> RuleGroup:
    return RuleGroup(c.GROUP_SELF_MONITORING, tuple(self_rule(a) for a in SELF_ALERTS))


def self_labels(alert: SelfAlert) -> dict[str, str]:
    return {
        c.LABEL_SEVERITY: alert.severity,
        c.LABEL_CONTEXT: c.SELF_CONTEXT,
        c.LABEL_PRIORITY: c.PRIORITIES[alert.severity],
        c.LABEL_ESCALATION_LEVEL: "0",
    }


def self_rule(alert: SelfAlert) -> AlertingRule:
    fill = {"instance": m.label("instance"), "probe": m.label(c.LABEL_PROBE)}
    return AlertingRule(
        alert=alert.alert,
        expr=alert.expr,
        for_=alert.for_,
        labels=self_labels(alert),
        annotations=self_annotations(alert, fill),
    )


def self_annotations(alert: SelfAlert, fill: Mapping[str, str]) -> dict[str, str]:
    return {key: m.substitute(text, fill) for key, text in alert.annotations.items()}
