"""Symptoms stay quiet in Prometheus while their cause fails, and until they can be seen fixed.

Alertmanager mutes a dependent's alerts while its dependency's alert fires
(alertmanager/inhibition.py); it stops when that alert resolves. A dependent usually takes
longer to be seen fixed: its own runs must pass success_threshold times, and one that runs
every 5 minutes may not even have run since the fix. Muted until then, it would page the
moment its cause resolved, after the fix.
So each rule a dependency's alert can mute in Alertmanager is also silent in Prometheus while
that dependency fails (its alert's condition: `failing`, or `violation` for a definition that
fires on violations only) and for as long after as the dependent takes to be seen fixed
(success_threshold runs and a timeout) plus a minute for a scrape and an evaluation, as
maintenance.quiet_in_windows keeps alerts quiet after a window (a Prometheus that scrapes or
evaluates less often than every 30 s needs a longer margin than this one):

    business_probe_failing{job="business_exporter",probe="zebra_admin_login_flow"} == 1
    unless on (probe) (
      business_probe_failing{job="business_exporter",probe="zebra_admin_login_flow"}
        and on () max_over_time(business_probe_failing{...,probe="auth_login_endpoint"}[3m10s]) == 1
    )

The right side of `unless` is the dependents' own series, kept while a cause failed within the
window: dependents with the same causes and window share one term.

What it costs: a dependent failing on its own while its dependency fails is not told until
that quiet time has passed. One already notified before its cause fired resolves in
Prometheus when the cause fires; Alertmanager mutes that resolution while the cause's alert
fires, as it muted the alert.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from exporter import conventions as c
from exporter.config import Config, Target, format_duration
from exporter.config.dependencies import all_dependencies
from exporter.generate.rules import messages as m

QUIET_MARGIN = 60.0  # seconds for a scrape and an evaluation, at least, as in rules/maintenance.py


def causes(config: Config, target: Target) -> list[Target]:
    """The dependencies, direct or not, whose alert mutes the target's alerts in Alertmanager:
    those with a (per-target) alert definition, as severe as the target or more."""
    found = (config.target(n) for n in all_dependencies(config).get(target.name, ()))
    return [d for d in found if d is not None and _mutes(config, d, target.severity)]


def group_causes(config: Config, targets: Sequence[Target], severity: str) -> list[Target]:
    """The dependencies whose alert mutes an alert standing for all of `targets` (an outage,
    a whole-of alert) at `severity`: those every one of the targets needs."""
    closure = all_dependencies(config)
    return [
        d
        for d in config.targets
        if _mutes(config, d, severity) and all(d.name in closure.get(t.name, ()) for t in targets)
    ]


def quiet_seconds(targets: Iterable[Target]) -> int:
    """How long after a cause's last failure the slowest of `targets` keeps quiet: its
    success_threshold runs, a timeout, and QUIET_MARGIN, in whole seconds."""
    slowest = max(t.success_threshold * t.interval + t.timeout for t in targets)
    return math.ceil(slowest + QUIET_MARGIN)


def quiet_per_probe(config: Config, targets: Sequence[Target], expr: str) -> str:
    """`expr` (series with a probe label), silent for each of `targets` while one of its
    causes fails and for quiet_seconds after; as is when none has a cause."""
    by_recent: dict[str, list[str]] = {}
    for target in targets:
        if found := causes(config, target):
            recent = _recent(config, found, quiet_seconds([target]))
            by_recent.setdefault(recent, []).append(target.name)
    parts = [_while(_series(names), recent) for recent, names in by_recent.items()]
    return _unless((c.LABEL_PROBE,), parts, expr)


def quiet_per_tenant(config: Config, targets: Sequence[Target], severity: str, expr: str) -> str:
    """`expr` (series with a tenant label, standing for `targets`), silent in each tenant while
    a cause of all of that tenant's targets fails and for quiet_seconds after."""
    by_tenant: dict[str, list[Target]] = {}
    for target in targets:
        by_tenant.setdefault(target.tenant, []).append(target)
    parts = [
        _while(
            f"group by ({c.LABEL_TENANT}) ({_series([t.name for t in members])})",
            _recent(config, found, quiet_seconds(members)),
        )
        for _, members in sorted(by_tenant.items())
        if (found := group_causes(config, members, severity))
    ]
    return _unless((c.LABEL_TENANT,), parts, expr)


def quiet_together(config: Config, targets: Sequence[Target], severity: str, expr: str) -> str:
    """`expr` (one series standing for all of `targets`: a service outage), silent while a
    cause of them all fails and for quiet_seconds after."""
    found = group_causes(config, targets, severity)
    if not found:
        return expr
    return f"{expr}\nunless on () {_recent(config, found, quiet_seconds(targets))}"


def _mutes(config: Config, dependency: Target, severity: str) -> bool:
    """Whether the dependency's own alert mutes alerts of `severity`
    (alertmanager/inhibition.py)."""
    alert = config.alerts.get(dependency.alert or "")
    if alert is None or alert.covers is not None:
        return False
    return c.SEVERITIES.index(severity) >= c.SEVERITIES.index(dependency.severity)


def _recent(config: Config, found: Sequence[Target], seconds: int) -> str:
    """A condition true while one of `found` fails, or failed within `seconds`, as its alert
    sees it: its `violation` series for a definition that fires on violations only."""
    window = format_duration(seconds)
    by_metric: dict[str, list[str]] = {}
    for dependency in found:
        fires_on = config.alerts[dependency.alert or ""].fires_on
        metric = c.PROBE_VIOLATION if fires_on == "violation" else c.PROBE_FAILING
        by_metric.setdefault(metric, []).append(dependency.name)
    ranges = [
        f"max_over_time({m.job_selector(metric, _probes(names))}[{window}]) == 1"
        for metric, names in sorted(by_metric.items())
    ]
    return ranges[0] if len(ranges) == 1 else f"({' or '.join(ranges)})"


def _series(names: Sequence[str]) -> str:
    """The `failing` series of these probes: every target has one, whatever its state."""
    return m.job_selector(c.PROBE_FAILING, _probes(names))


def _while(series: str, recent: str) -> str:
    return f"{series}\n    and on () {recent}"


def _unless(on: Sequence[str], parts: Sequence[str], expr: str) -> str:
    if not parts:
        return expr
    inner = "\n  or ".join(parts)
    return f"{expr}\nunless on ({', '.join(on)}) (\n  {inner}\n)"


def _probes(names: Sequence[str]) -> str:
    if len(names) == 1:
        return m.matcher(c.LABEL_PROBE, names[0])
    return m.matcher(c.LABEL_PROBE, "|".join(sorted(names)), "=~")
