"""Render module for the Alertmanager side: builder values in, alertmanager.yml and the routing
tests out, through render.to_yaml (kept apart from render.py, which the rules and dashboards
fill). Fields are written in the order Alertmanager documents them; empty ones are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exporter.generate.alertmanager.inhibition_cases import InhibitionCase
from exporter.generate.alertmanager.model import (
    AlertmanagerConfig,
    Email,
    InhibitRule,
    Integration,
    PagerDuty,
    Receiver,
    Route,
    RoutingCase,
    Slack,
    Smtp,
    TimeSpec,
    Webhook,
)
from exporter.generate.alertmanager.templates import template
from exporter.generate.render import to_yaml

# PagerDuty custom details: the first alert's annotations (a group shares its definition).
PD_DETAILS = (
    "business_impact",
    "revenue_at_risk",
    "recovery_sla",
    "stakeholder_message",
    "technical_message",
    "runbook_url",
)


def alertmanager_file(config: AlertmanagerConfig) -> str:
    out: dict[str, Any] = {}
    if config.smtp is not None:
        out["global"] = _global(config.smtp)
    out["templates"] = list(config.templates)
    out["route"] = _route(config.route)
    if config.inhibit_rules:
        out["inhibit_rules"] = [_inhibit(rule) for rule in config.inhibit_rules]
    out["receivers"] = [_receiver(r) for r in config.receivers]
    if config.time_intervals:
        out["time_intervals"] = [
            {"name": t.name, "time_intervals": [_time_spec(s) for s in t.specs]}
            for t in config.time_intervals
        ]
    return to_yaml(out)


def routing_tests_file(cases: Sequence[RoutingCase]) -> str:
    """A list of {name, labels, receivers}; the receivers in any order, as amlint reads them."""
    return to_yaml([_case(case) for case in cases])


def _case(case: RoutingCase) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": case.name,
        "labels": dict(case.labels),
        "receivers": list(case.receivers),
    }
    if case.mutes:  # not read by amtool: `generate` walks the tree and checks them
        out["mutes"] = list(case.mutes)
    return out


def inhibition_tests_file(cases: Sequence[InhibitionCase]) -> str:
    """A list of {name, source, target, muted}: while source fires, target is held back or not."""
    return to_yaml(
        [
            {
                "name": case.name,
                "source": dict(case.source),
                "target": dict(case.target),
                "muted": case.muted,
            }
            for case in cases
        ]
    )


def _global(smtp: Smtp) -> dict[str, Any]:
    out: dict[str, Any] = {"smtp_smarthost": smtp.smarthost, "smtp_from": smtp.from_}
    if smtp.auth_username:
        out["smtp_auth_username"] = smtp.auth_username
    if smtp.auth_password_file:
        out["smtp_auth_password_file"] = smtp.auth_password_file
    out["smtp_require_tls"] = smtp.require_tls
    return out


def _route(route: Route) -> dict[str, Any]:
    out: dict[str, Any] = {"receiver": route.receiver}
    if route.matchers:
        out["matchers"] = [str(m) for m in route.matchers]
    if route.group_by:
        out["group_by"] = list(route.group_by)
    if route.continue_:
        out["continue"] = True
    for field in ("group_wait", "group_interval", "repeat_interval"):
        if value := getattr(route, field):
            out[field] = value
    for field in ("mute_time_intervals", "active_time_intervals"):
        if value := getattr(route, field):
            out[field] = list(value)
    if route.routes:
        out["routes"] = [_route(child) for child in route.routes]
    return out


def _inhibit(rule: InhibitRule) -> dict[str, Any]:
    out: dict[str, Any] = {
        "source_matchers": [str(m) for m in rule.source],
        "target_matchers": [str(m) for m in rule.target],
    }
    if rule.equal:
        out["equal"] = list(rule.equal)
    return out


def _receiver(receiver: Receiver) -> dict[str, Any]:
    out: dict[str, Any] = {"name": receiver.name}
    for part in receiver.parts:
        if part.integration is not None:
            key, config = _integration(part.integration)
            out.setdefault(key, []).append(config)
    return out


def _integration(integration: Integration) -> tuple[str, dict[str, Any]]:
    if isinstance(integration, Slack):
        return "slack_configs", _slack(integration)
    if isinstance(integration, PagerDuty):
        return "pagerduty_configs", _pagerduty(integration)
    if isinstance(integration, Email):
        return "email_configs", _email(integration)
    return "webhook_configs", _webhook(integration)


def _slack(slack: Slack) -> dict[str, Any]:
    out: dict[str, Any] = {"send_resolved": True, "api_url_file": slack.api_url_file}
    for field in ("channel", "username", "icon_emoji"):
        if value := getattr(slack, field):
            out[field] = value
    out["color"] = template("slack.color")
    out["title"] = template("slack.title")
    out["fallback"] = template("slack.title")  # what notifications and screen readers show
    out["text"] = template("slack.text")
    return out


def _pagerduty(pagerduty: PagerDuty) -> dict[str, Any]:
    out: dict[str, Any] = {"send_resolved": True, "routing_key_file": pagerduty.routing_key_file}
    if pagerduty.url:
        out["url"] = pagerduty.url
    out["description"] = template("pagerduty.description")
    out["severity"] = template("pagerduty.severity")
    out["class"] = "{{ .CommonLabels.context }}"
    out["component"] = "{{ .CommonLabels.service }}"
    out["group"] = "{{ .CommonLabels.tenant }}"
    details = {name: f"{{{{ (index .Alerts 0).Annotations.{name} }}}}" for name in PD_DETAILS}
    details["component"] = '{{ template "business.component" (index .Alerts 0) }}'
    details["escalation"] = '{{ template "business.escalation" (index .Alerts 0) }}'
    out["details"] = details
    return out


def _email(email: Email) -> dict[str, Any]:
    return {
        "send_resolved": True,
        "to": ", ".join(email.to),
        "headers": {"Subject": template("email.subject")},
        "html": template("email.html"),
        "text": template("email.text"),
    }


def _webhook(webhook: Webhook) -> dict[str, Any]:
    out: dict[str, Any] = {"send_resolved": True, "url": webhook.url}
    if webhook.credentials_file:
        out["http_config"] = {"authorization": {"credentials_file": webhook.credentials_file}}
    return out


def _time_spec(spec: TimeSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if spec.times:
        out["times"] = [{"start_time": s, "end_time": e} for s, e in spec.times]
    for field in ("weekdays", "days_of_month", "months", "years"):
        if value := getattr(spec, field):
            out[field] = list(value)
    if spec.location:
        out["location"] = spec.location
    return out
