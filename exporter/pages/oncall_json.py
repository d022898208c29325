"""The on-call page as JSON (`/api/v1/status`): the same data, for scripts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from exporter.pages.alertmanager import Alert, AlertState
from exporter.pages.history import NO_RUN, Segment
from exporter.pages.oncall import GroupView, OnCallView, TargetView


def oncall_json(view: OnCallView) -> dict[str, Any]:
    return {
        "generated_at": iso(view.generated_at),
        "exporter": {
            "version": view.version,
            "config_reload_successful": view.reload_ok,
            "shard": view.shard or None,
        },
        "summary": {
            "targets": view.targets,
            "failing": view.failing,
            "in_maintenance": view.in_maintenance,
            "tenants_affected": sorted({g.tenant for g in view.groups if g.failing}),
        },
        "revenue_at_risk": [
            {
                "currency": r.currency,
                "amount": r.amount,
                "tenants": [{"tenant": t, "amount": a} for t, a in r.tenants],
                "opportunities": [
                    {"tenant": o.tenant, "context": o.context, "amount": o.amount}
                    for o in r.opportunities
                ],
            }
            for r in view.revenue
        ],
        "alertmanager": alertmanager_json(view.alertmanager),
        "other_alerts": [alert_json(a) for a in view.other_alerts],
        "groups": [_group(g) for g in view.groups],
    }


def alertmanager_json(state: AlertState) -> dict[str, Any]:
    return {
        "status": state.status,
        "url": state.url or None,
        "fetched_at": iso(state.fetched_at),
        "error": state.error or None,
    }


def alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "labels": alert.labels,
        "state": alert.state,
        "inhibited": alert.inhibited,
        "silenced": alert.silenced,
        "escalation_level": alert.escalation_level,
        "starts_at": alert.starts_at,
        "receivers": list(alert.receivers),
    }


def _group(group: GroupView) -> dict[str, Any]:
    return {
        "tenant": group.tenant,
        "tenant_name": group.tenant_name,
        "service": group.service,
        "state": group.state,
        "maintenance": list(group.maintenance),
        "alerts": [alert_json(a) for a in group.alerts],
        "targets": [_target(t) for t in group.targets],
    }


def _target(view: TargetView) -> dict[str, Any]:
    target, failure = view.about, view.last_failure
    revenue = target.revenue_at_risk
    return {
        "name": target.name,
        "kind": target.kind,
        "severity": target.severity,
        "context": target.context,
        "tier": target.tier,
        "description": target.description,
        "state": view.state,
        "outcome": view.outcome or None,
        "consecutive_failures": view.consecutive_failures,
        "maintenance": list(view.maintenance),
        "last_run": iso(view.last_run),
        "last_success": iso(view.last_success),
        "last_failure": None
        if failure is None
        else {
            "at": iso(failure.at),
            "reason": failure.reason,
            "outcome": failure.outcome,
            "detail": failure.detail,
        },
        "revenue_at_risk": None
        if revenue is None
        else {"amount": revenue.amount, "currency": revenue.currency},
        "runbook_url": view.runbook_url or None,
        "debug_url": view.debug_url,
        "escalation_level": view.escalation_level,
        "alerts": [alert_json(a) for a in view.alerts],
        "history": [segment_json(s) for s in view.history if s.result != NO_RUN],
    }


def segment_json(segment: Segment) -> dict[str, Any]:
    return {
        "result": segment.result,
        "outcome": segment.outcome,
        "runs": segment.runs,
        "from": iso(segment.start),
        "to": iso(segment.end),
        "maintenance": segment.maintenance,
    }


def iso(when: float | None) -> str | None:
    if when is None:
        return None
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
