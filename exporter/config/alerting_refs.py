"""Checks across the alerting sections: every receiver, interval and chain entry is defined."""

from __future__ import annotations

from exporter.config.alerting import RouteSpec, Routing
from exporter.config.model import Config
from exporter.config.references import Report, undefined
from exporter.conventions import RECEIVER_BLACKHOLE, SELF_CONTEXT, SLO_CONTEXT

# Contexts the bundle's own alerts carry, whether or not the config defines them.
BUILT_IN_CONTEXTS = (SELF_CONTEXT, SLO_CONTEXT)


def check_alerting(config: Config, report: Report) -> None:
    """Report each undefined receiver, time interval, context and escalation entry."""
    for name, receiver in config.receivers.items():
        if name == RECEIVER_BLACKHOLE:
            report(("receivers", name), f"{name!r} is reserved for the Watchdog's null receiver")
        if receiver.email is not None and config.smtp is None:
            report(("receivers", name, "email"), "needs the smtp section (smarthost, from)")
    routing = config.routing
    if routing is None:
        return
    for field in ("receiver", "watchdog"):
        name = getattr(routing, field)
        if name is not None and name not in config.receivers:
            report(("routing", field), undefined(name, "receivers", config.receivers))
    for severity, spec in routing.severities.items():
        _route(config, routing, ("routing", "severities", severity), spec, report)
    for context, spec in routing.contexts.items():
        _route(config, routing, ("routing", "contexts", context), spec, report)
        known = [*config.contexts, *BUILT_IN_CONTEXTS]
        if config.contexts and context not in known:
            report(("routing", "contexts", context), undefined(context, "contexts", known))
    for entry, receivers in routing.escalation.items():
        for i, name in enumerate(receivers):
            if name not in config.receivers:
                here = ("routing", "escalation", entry, i)
                report(here, undefined(name, "receivers", config.receivers))
    _escalation_entries(config, routing, report)


def _route(
    config: Config, routing: Routing, here: tuple[str, ...], spec: RouteSpec, report: Report
) -> None:
    for i, name in enumerate(spec.receivers):
        if name not in config.receivers:
            report((*here, "receivers", i), undefined(name, "receivers", config.receivers))
    for field in ("mute_time_intervals", "active_time_intervals"):
        for i, name in enumerate(getattr(spec, field)):
            if name not in routing.time_intervals:
                report(
                    (*here, field, i),
                    undefined(name, "routing.time_intervals", routing.time_intervals),
                )


def _escalation_entries(config: Config, routing: Routing, report: Report) -> None:
    """Every chain entry an alert escalates to (level 1 and above) needs its receivers."""
    for name, alert in config.alerts.items():
        if alert.escalation_time is None:
            continue  # no escalation levels: only level 0, routed by severity
        for i, entry in enumerate(alert.escalation_chain[1:], start=1):
            if entry not in routing.escalation:
                report(
                    ("alerts", name, "escalation_chain", i),
                    undefined(entry, "routing.escalation", routing.escalation),
                )
