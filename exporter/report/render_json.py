"""The report as JSON: fractions (0.999005), ISO 8601 times in UTC, seconds as numbers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from exporter.report.compute import Incident, Latency, Report, TenantReport

DIGITS = 6  # a fraction to the millionth: 99.9999% is still told from 100%


def render_json(report: Report) -> str:
    return json.dumps(as_data(report), indent=2, ensure_ascii=False) + "\n"


def as_data(report: Report) -> dict[str, Any]:
    """The report as plain data; the shape the JSON has."""
    return {
        "from": iso(report.period.start),
        "to": iso(report.period.end),
        "generated_at": iso(report.generated_at),
        "tenants": [_tenant(t) for t in report.tenants],
    }


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def fraction(value: float | None) -> float | None:
    return None if value is None else round(value, DIGITS)


def _tenant(t: TenantReport) -> dict[str, Any]:
    return {
        "tenant": t.tenant,
        "display_name": t.display_name,
        "tier": t.tier,
        "objective": fraction(t.objective),
        "availability": fraction(t.availability),
        "error_budget_remaining": fraction(t.error_budget_remaining),
        "compliant": t.compliant,
        "runs": round(t.counts.runs),
        "failed_runs": round(t.counts.runs - t.counts.good),
        "latency": _latency(t.latency),
        "maintenance_seconds": t.maintenance_seconds,
        "maintenance_windows": t.windows,
        "incidents": [_incident(i) for i in t.incidents],
        "chart": [
            {"start": iso(b.start), "end": iso(b.end), "availability": fraction(b.availability)}
            for b in t.chart
        ],
    }


def _latency(latency: Latency | None) -> dict[str, Any] | None:
    if latency is None:
        return None
    return {
        "p95_seconds": fraction(latency.p95_seconds),
        "objective_seconds": latency.objective_seconds,
        "objective": fraction(latency.objective),
        "within_objective": fraction(latency.within),
        "compliant": latency.compliant,
    }


def _incident(incident: Incident) -> dict[str, Any]:
    return {
        "start": iso(incident.start),
        "end": iso(incident.end),
        "seconds": incident.seconds,
        "service": incident.service,
        "probes": list(incident.probes),
    }
