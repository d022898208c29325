"""The banner's account of each fault: what it breaks, what fires, who hears of it and how soon.

    the admin router is dropped (as by a failed import):
      curl -X POST http://127.0.0.1:8000/_faults/routers/admin/drop
      curl -X POST http://127.0.0.1:8000/_faults/routers/admin/restore   # undo
      fails zebra_admin_access, ... (unexpected_status: a violation), api_route_registration
        (route_missing: a violation)
      BusinessServiceOutage service=admin tenant=zebra_associates
          -> email_matt_lindop + email_sales_team + slack_zebra_channel within 58 s
      ZebraAdminFailure probe=zebra_admin_access: muted by BusinessServiceOutage ...
      escalations while it fails: ZebraAdminFailure 60 s -> email_product_manager, ...

Every name and figure comes from expect.expected_alerts(); an alert a maintenance window keeps
quiet, and a route whose time intervals hold notifications back now, say so, and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from exporter import conventions as c
from exporter.config import Config
from exporter.demo.expect import (
    Expected,
    Failure,
    RouteTo,
    Timing,
    describe_labels,
    expected_alerts,
    quiet_after,
)
from exporter.demo.scenarios import Fault

_IDENTITY = (c.LABEL_SERVICE, c.LABEL_TENANT)


def fault_lines(
    config: Config, faults: Sequence[Fault], timing: Timing, now: datetime
) -> list[str]:
    """The banner's lines for `faults`, from `config` as the demo runs it, at `now`."""
    lines = [
        f"What each fault fires and who hears of it, from the config and its generated rules "
        f"and routing (time intervals and maintenance windows as of {now:%a %H:%M}; 'within' "
        f"is the worst case):"
    ]
    for fault in faults:
        lines += fault_block(config, fault, timing, now)
    return lines


def fault_switches(config: Config, faults: Sequence[Fault]) -> list[str]:
    """How to switch `faults` on and off, and which targets notice: without Alertmanager."""
    lines = ["The faults, and the targets they make fail:"]
    for fault in faults:
        lines += [f"  {fault.title}:", f"    {fault.switch_on}", f"    {fault.switch_off}   # undo"]
        lines.append(f"    fails {_failing(fault.failures(config))}")
    return lines


def fault_block(config: Config, fault: Fault, timing: Timing, now: datetime) -> list[str]:
    failures = fault.failures(config)
    lines = [f"  {fault.title}:", f"    {fault.switch_on}", f"    {fault.switch_off}   # undo"]
    if not failures:
        return [*lines, "    no target of this config notices it"]
    lines.append(f"    fails {_failing(failures)}")
    alerts = expected_alerts(config, failures, timing, now)
    lines += [f"    {line}" for line in _level_zero(a for a in alerts if a.level == 0)]
    escalations = _escalations([a for a in alerts if a.level > 0])
    if escalations:
        lines.append("    escalations while it fails, counted from the alert's firing:")
        lines += [f"      {line}" for line in escalations]
    quiet = quiet_after(config, failures, timing)
    if quiet is not None:
        lines.append(
            f"    after the undo, what depends on it stays quiet up to {quiet.seconds:.0f} s, "
            f"a symptom until seen fixed: {_names(quiet.dependents)}"
        )
    return lines


def _names(names: Sequence[str], shown: int = 3) -> str:
    if len(names) <= shown + 1:
        return ", ".join(names)
    return f"{', '.join(names[:shown])} and {len(names) - shown} more"


def route_text(alert: Expected, route: RouteTo) -> str:
    receivers = " + ".join(route.receivers)
    if route.held is not None:
        return f"{receivers}, held now: {route.held}"
    return f"{receivers} within {alert.within(route):.0f} s"


def _failing(failures: Sequence[Failure]) -> str:
    """The targets, by failure reason: "a, b (unexpected_status: a violation), c (timeout:
    the check cannot run)"."""
    if not failures:
        return "none"
    by_reason: dict[str, list[str]] = {}
    for failure in failures:
        by_reason.setdefault(failure.reason, []).append(failure.target.name)
    return ", ".join(
        f"{', '.join(names)} ({reason}: "
        f"{'a violation' if c.is_violation(reason) else 'the check cannot run'})"
        for reason, names in by_reason.items()
    )


def _level_zero(alerts: Iterable[Expected]) -> list[str]:
    """One line per alert name and outcome, the probes of the same outcome together."""
    groups: dict[tuple[str, ...], list[Expected]] = {}
    for alert in alerts:
        outcome = (alert.alertname, str(alert.inhibited), str(alert.quiet), _routes_key(alert))
        who = "" if alert.labels.get(c.LABEL_PROBE) else describe_labels(alert.labels, _IDENTITY)
        groups.setdefault((*outcome, who), []).append(alert)
    return [_line(group) for group in groups.values()]


def _line(group: list[Expected]) -> str:
    first = group[0]
    probes = ",".join(a.labels[c.LABEL_PROBE] for a in group if a.labels.get(c.LABEL_PROBE))
    head = f"{first.alertname} {f'probe={probes}' if probes else _who(first)}"
    if first.quiet is not None:
        return f"{head}: quiet, in {first.quiet}"
    inhibited = first.inhibited
    if inhibited is not None and inhibited.from_the_start:
        return f"{head}: muted by {inhibited.source}"
    slowest = max(group, key=lambda a: a.detection)
    line = f"{head} -> " + "; ".join(route_text(slowest, r) for r in first.routes)
    if inhibited is not None:
        line += f", unless {inhibited.source} fires first and mutes it"
    return line


def _escalations(alerts: Sequence[Expected]) -> list[str]:
    """A line per alert name: "AuthSystemFailure 18 s -> a + b, 36 s -> c", each level once
    (the probes of one definition escalate alike)."""
    by_name: dict[str, dict[int, Expected]] = {}
    for alert in alerts:
        by_name.setdefault(alert.alertname, {}).setdefault(alert.level, alert)
    return [
        f"{name} {', '.join(_escalation(levels[level]) for level in sorted(levels))}"
        for name, levels in by_name.items()
    ]


def _escalation(alert: Expected) -> str:
    where = " and ".join(" + ".join(r.receivers) for r in alert.routes)
    held = [r.held for r in alert.routes if r.held is not None]
    inhibited = alert.inhibited
    if alert.quiet is not None:
        where += f" (quiet, in {alert.quiet})"
    elif inhibited is not None and inhibited.from_the_start:
        where += f" (muted by {inhibited.source})"
    elif inhibited is not None:
        where += f" (unless muted by {inhibited.source})"
    elif held:
        where += f" (held now: {held[0]})"
    return f"{alert.after:g} s -> {where}"


def _who(alert: Expected) -> str:
    return describe_labels(alert.labels, _IDENTITY)


def _routes_key(alert: Expected) -> str:
    return "|".join(f"{r.receiver}:{r.held}" for r in alert.routes)
