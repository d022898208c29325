"""Checks across sections: every name a target or alert refers to is defined."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator

from exporter.config.model import Config
from exporter.config.types import format_duration
from exporter.conventions import RESERVED_ALERT_NAMES, SELF_CONTEXT, SLO_CONTEXT, alert_name

Report = Callable[[tuple[str | int, ...], str], None]


def check_references(config: Config, report: Report) -> None:
    """Report each dangling reference and impossible timing with its path."""
    for i, target in enumerate(config.targets):
        here = ("targets", i)
        if target.timeout > target.interval:
            field = "timeout" if "timeout" in target.model_fields_set else "interval"
            report(
                (*here, field),
                f"timeout ({format_duration(target.timeout)}) must not exceed "
                f"interval ({format_duration(target.interval)})",
            )
        for field, name, section in _target_refs(config, i):
            report((*here, field), undefined(name, section, getattr(config, section)))
        _check_target_alert(config, i, report)
        if target.steps is not None:  # variables a step uses before any step sets them
            for path, message in target.steps.problems():
                report((*here, "steps", *path), message)
    _check_alert_names(config, report)
    for name, alert in config.alerts.items():
        if config.contexts and alert.context not in config.contexts:
            report(
                ("alerts", name, "context"), undefined(alert.context, "contexts", config.contexts)
            )
        unverified = alert.unverified_context
        known = [*config.contexts, SELF_CONTEXT, SLO_CONTEXT]
        if unverified is not None and config.contexts and unverified not in known:
            report(("alerts", name, "unverified_context"), undefined(unverified, "contexts", known))
        _check_covers(config, name, report)
    probed = {t.tenant for t in config.targets}
    for name, tenant in config.tenants.items():
        if config.tiers and tenant.tier not in config.tiers:
            report(("tenants", name, "tier"), undefined(tenant.tier, "tiers", config.tiers))
        if tenant.status_page and name not in probed:
            report(
                ("tenants", name, "status_page"),
                f"no target has tenant {name}: its status page would have nothing to show",
            )


def _check_alert_names(config: Config, report: Report) -> None:
    """Each definition becomes an alertname: it must be unique and not one the bundle uses."""
    seen: dict[str, str] = {}
    for name in config.alerts:
        alertname = alert_name(name)
        if alertname in RESERVED_ALERT_NAMES:
            report(("alerts", name), f"becomes alertname {alertname}, which is reserved")
        elif alertname in seen:
            report(
                ("alerts", name),
                f"becomes alertname {alertname}, as alerts.{seen[alertname]} does",
            )
        seen.setdefault(alertname, name)


def _check_target_alert(config: Config, i: int, report: Report) -> None:
    """A target fires at its alert's severity, and never references a whole-of alert."""
    target = config.targets[i]
    alert = config.alerts.get(target.alert or "")
    if alert is None:
        return
    if alert.covers is not None:
        report(
            ("targets", i, "alert"),
            f"{target.alert} covers the targets of {alert.covers}: reference {alert.covers}",
        )
    elif target.severity != alert.severity:
        report(
            ("targets", i, "severity"),
            f"{target.severity} is not the severity of its alert {target.alert} "
            f"({alert.severity}): one target, one severity; leave it out to take the alert's",
        )


def _check_covers(config: Config, name: str, report: Report) -> None:
    alert = config.alerts[name]
    if alert.covers is None:
        return
    covered = config.alerts.get(alert.covers)
    here = ("alerts", name, "covers")
    if covered is None:
        report(here, undefined(alert.covers, "alerts", config.alerts))
    elif alert.covers == name or covered.covers is not None:
        report(here, f"{alert.covers} covers others itself: cover an alert that targets reference")
    for field, placeholder in alert.target_placeholders():
        report(
            ("alerts", name, field),
            f"{{{placeholder}}} names one target, and {name} fires per tenant for all the "
            f"targets of {alert.covers}",
        )


def undefined(name: str, section: str, defined: Iterable[str]) -> str:
    """Say that `name` is missing from `section`, and what was probably meant."""
    names = sorted(defined)
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        return f"{name!r} is not defined in {section}; did you mean {close[0]!r}?"
    return f"{name!r} is not defined in {section} (defined: {', '.join(names) or 'none'})"


def _target_refs(config: Config, i: int) -> Iterator[tuple[str, str, str]]:
    """(field, name, section) for each reference of target i to an undefined name."""
    target = config.targets[i]
    if target.alert is not None and target.alert not in config.alerts:
        yield "alert", target.alert, "alerts"
    if config.contexts and target.context not in config.contexts:
        yield "context", target.context, "contexts"
    if config.tenants and target.tenant and target.tenant not in config.tenants:
        yield "tenant", target.tenant, "tenants"
    if config.tiers and target.tier and target.tier not in config.tiers:
        yield "tier", target.tier, "tiers"
