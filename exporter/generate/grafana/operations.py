"""The operations dashboard: probe status over time, active alerts and escalations, failure
reasons and time since each probe last succeeded."""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from exporter import conventions as c
from exporter.generate.grafana.panels import (
    PanelBuilder,
    Query,
    Section,
    Spec,
    bar_gauge,
    dashboard,
    matchers,
    select,
    stat_panel,
    state_timeline,
    status_history,
    table_panel,
    thresholds,
    timeseries,
)

UID = "business-exporter-operations"
TITLE = "Business exporter: operations"
SUMMARY = (
    "What is broken and who knows: the status of every probe over time, firing alerts and their "
    "escalation level, failure reasons and the time since each probe last succeeded."
)
_PROBE = c.LABEL_PROBE
_FIRING = 'alertstate="firing"'
_TABLE = PromQueryFormat.TABLE
# The alert table's columns, in order; Prometheus' own labels are left out.
ALERT_COLUMNS = (
    "alertname",
    c.LABEL_SEVERITY,
    c.LABEL_PRIORITY,
    c.LABEL_ESCALATION_LEVEL,
    c.LABEL_ESCALATE_TO,
    c.LABEL_CONTEXT,
    c.LABEL_TENANT,
    c.LABEL_SERVICE,
    c.LABEL_PROBE,
)
_HIDDEN = ("Time", "Value", "__name__", "alertstate", "job", "instance", c.LABEL_KIND)


def operations() -> model.Dashboard:
    return dashboard(
        UID,
        TITLE,
        SUMMARY,
        (
            Section(1, "Probe status", _status()),
            Section(5, "Alerts and escalations", _alerts()),
            Section(8, "Failures", _failures()),
        ),
    )


def _status() -> tuple[PanelBuilder, ...]:
    failing = select(c.PROBE_FAILING)
    count = Spec(
        2,
        "Probes failing now",
        "Targets past their failure threshold (business_probe_failing).",
        (Query(f"sum({failing})"),),
        size=(6, 8),
    )
    matrix = Spec(
        3,
        "Probe status matrix",
        "The result of each probe's last run over time: UP or DOWN.",
        (Query(f"max by ({_PROBE}) ({select(c.PROBE_SUCCESS)})", "{{probe}}"),),
        size=(18, 8),
    )
    violation = select(c.PROBE_VIOLATION)
    state = Spec(
        4,
        "Alert state by probe",
        "FAILING after failure_threshold consecutive failures, OK after success_threshold "
        "consecutive successes: what the alerts fire on. A failure is a VIOLATION when a run "
        "of it found the problem, COULD NOT CHECK when no run could (business_probe_violation).",
        (Query(f"max by ({_PROBE}) ({failing} + {violation})", "{{probe}}"),),
        size=(24, 8),
    )
    red_from_one = thresholds(("green", None), ("red", 1))
    return (
        stat_panel(count).thresholds(red_from_one),
        status_history(matrix, (1, "UP", "green"), (0, "DOWN", "red")),
        state_timeline(
            state,
            (0, "OK", "green"),
            (1, "FAILING: COULD NOT CHECK", "orange"),
            (2, "FAILING: VIOLATION", "red"),
        ),
    )


def _alerts() -> tuple[PanelBuilder, ...]:
    firing = "ALERTS" + matchers(c.LABEL_TENANT, c.LABEL_SERVICE, c.LABEL_CONTEXT, fixed=_FIRING)
    active = Spec(
        6,
        "Active alerts and escalations",
        "Alerts firing now. An escalation is an alert of its own, one per level, routed to "
        "escalate_to; alerts without a tenant (the exporter's own) show under All only.",
        (Query(firing, instant=True, format=_TABLE),),
        size=(24, 8),
    )
    history = Spec(
        7,
        "Alerts firing by escalation level",
        "How many alerts fire over time, by name and escalation level.",
        (
            Query(
                f"count by (alertname, {c.LABEL_ESCALATION_LEVEL}) ({firing})",
                "{{alertname}} level {{escalation_level}}",
            ),
        ),
        size=(24, 8),
    )
    return (table_panel(active, ALERT_COLUMNS, _HIDDEN), timeseries(history).decimals(0))


def _failures() -> tuple[PanelBuilder, ...]:
    failed = select(f"{c.PROBE_RUNS}_total", fixed=f'{c.LABEL_RESULT}!="{c.RESULT_SUCCESS}"')
    reasons = Spec(
        9,
        "Failure reasons by probe",
        "Failed runs in the dashboard's time range, by probe and reason.",
        (
            Query(
                f"sort_desc(sum by ({_PROBE}, {c.LABEL_RESULT}) "
                f"(increase({failed}[$__range])) > 0)",
                instant=True,
                format=_TABLE,
            ),
        ),
        size=(12, 8),
    )
    last_success = select(c.PROBE_LAST_SUCCESS)
    since = Spec(
        10,
        "Time since last success",
        "Seconds since each probe last succeeded.",
        (Query(f"time() - max by ({_PROBE}) ({last_success})", "{{probe}}", instant=True),),
        "s",
        (12, 8),
    )
    hidden = ("Time",)
    columns = (_PROBE, c.LABEL_RESULT, "Value")
    failed_runs = table_panel(reasons, columns, hidden, {"Value": "failed runs"})
    return (failed_runs, bar_gauge(since))
