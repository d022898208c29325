"""Maintenance windows in Alertmanager: time intervals, and routes that are muted during them.

Each window becomes a time interval named `maintenance_<window>`. A recurring window is
already in Alertmanager's format. A one-off window is written with years, months,
days_of_month and times in UTC, one entry per day it touches (whole days in a row as one
range): exact to the minute, and Alertmanager mutes it with no help from Prometheus or the
exporter, so it holds even while they are down.

Alertmanager mutes routes, not alerts, and a child route does not inherit its parent's mute
intervals. So for each tenant, and each set of windows covering some of its services, the tree
gets a route right after the Watchdog's matching that tenant and those services, muted during
those windows, whose children repeat the whole tree below the root, each muted as well: an alert
under maintenance reaches the same receivers as outside it, except while a window holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from exporter import conventions as c
from exporter.config import Config
from exporter.config.alerting import TimeInterval as ConfigTimeInterval
from exporter.config.maintenance import INTERVAL_PREFIX, MaintenanceWindow
from exporter.generate.alertmanager.model import Matcher, Route, RoutingCase, TimeInterval, TimeSpec
from exporter.generate.alertmanager.routes import expected_receivers

DAY = timedelta(days=1)


def interval_name(window: str) -> str:
    return INTERVAL_PREFIX + window


def maintenance_intervals(
    config: Config, spec: Callable[[ConfigTimeInterval], TimeSpec]
) -> tuple[TimeInterval, ...]:
    """One time interval per window; `spec` writes a recurring entry in Alertmanager's terms."""
    return tuple(
        TimeInterval(
            interval_name(name),
            tuple(spec(i) for i in window.recurring) or one_off_specs(window),
        )
        for name, window in config.maintenance.items()
    )


def one_off_specs(window: MaintenanceWindow) -> tuple[TimeSpec, ...]:
    """[start, end) as UTC calendar entries, a partial day with its times, whole days in a row
    of one month as one days_of_month range."""
    assert window.start is not None
    assert window.end is not None
    start, end = window.start.astimezone(UTC), window.end.astimezone(UTC)
    out: list[TimeSpec] = []
    day = start.replace(hour=0, minute=0)
    while day < end:
        s, e = max(start, day), min(end, day + DAY)
        if (s, e) == (day, day + DAY):
            out.append(TimeSpec((), (), (str(day.day),), (str(day.month),), (str(day.year),)))
        else:
            times = ((_clock(s, day), _clock(e, day)),)
            out.append(TimeSpec(times, (), (str(day.day),), (str(day.month),), (str(day.year),)))
        day += DAY
    return tuple(_merged(out))


def _merged(specs: list[TimeSpec]) -> list[TimeSpec]:
    """Whole days of one month in a row as one `first:last` range."""
    out: list[TimeSpec] = []
    for spec in specs:
        last = out[-1] if out else None
        if (
            last is not None
            and not last.times
            and not spec.times
            and (last.months, last.years) == (spec.months, spec.years)
            and int(spec.days_of_month[0]) == int(last.days_of_month[0].split(":")[-1]) + 1
        ):
            first = last.days_of_month[0].split(":")[0]
            out[-1] = replace(last, days_of_month=(f"{first}:{spec.days_of_month[0]}",))
        else:
            out.append(spec)
    return out


def _clock(when: datetime, day: datetime) -> str:
    minutes = int((when - day).total_seconds()) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def scopes(config: Config) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """(tenant, its services, the windows covering them) for each tenant and set of windows
    that covers some of its targets' services, in config order."""
    found: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for tenant, service in dict.fromkeys((t.tenant, t.service) for t in config.targets):
        names = tuple(n for n, w in config.maintenance.items() if w.covers(tenant, service))
        if names:
            found.setdefault((tenant, names), []).append(service)
    return [(tenant, tuple(services), names) for (tenant, names), services in found.items()]


def with_maintenance(config: Config, root: Route) -> Route:
    """The tree with a muted copy of itself for each maintenance scope, after the Watchdog."""
    if not config.maintenance:
        return root
    watchdog, *rest = root.routes
    muted = [_scope_route(root, rest, *scope) for scope in scopes(config)]
    return replace(root, routes=(watchdog, *muted, *rest))


def _scope_route(
    root: Route, rest: list[Route], tenant: str, services: tuple[str, ...], names: tuple[str, ...]
) -> Route:
    intervals = tuple(interval_name(n) for n in names)
    return Route(
        root.receiver,
        (Matcher(c.LABEL_TENANT, tenant), _service_matcher(services)),
        mute_time_intervals=intervals,
        routes=tuple(_muted(r, intervals) for r in rest),
        # No origin: an alert ends at one of its children, never at it (the children repeat
        # the root's routes and their origins, and the catch-all's lack of one). The
        # maintenance routing cases prove that it is reached.
    )


def _service_matcher(services: tuple[str, ...]) -> Matcher:
    if len(services) == 1:
        return Matcher(c.LABEL_SERVICE, services[0])
    return Matcher(c.LABEL_SERVICE, "|".join(re.escape(s) for s in services), "=~")


def _muted(route: Route, intervals: tuple[str, ...]) -> Route:
    return replace(
        route,
        mute_time_intervals=(*route.mute_time_intervals, *intervals),
        routes=tuple(_muted(r, intervals) for r in route.routes),
    )


def expected_mutes(config: Config, labels: Mapping[str, str]) -> tuple[str, ...]:
    """The maintenance intervals that must mute an alert: those of the windows covering its
    tenant and service (an alert without a service, such as a burn rate, is never muted)."""
    service = labels.get(c.LABEL_SERVICE, "")
    if not service:
        return ()
    tenant = labels.get(c.LABEL_TENANT, "")
    return tuple(
        interval_name(n) for n, w in config.maintenance.items() if w.covers(tenant, service)
    )


def maintenance_cases(config: Config, cases: tuple[RoutingCase, ...]) -> tuple[RoutingCase, ...]:
    """For each maintenance scope, the level-0 alert of one of its targets (its own alert
    definition's, else the staleness alert), with that target's labels."""
    out = []
    for tenant, services, names in scopes(config):
        target = next(t for t in config.targets if t.tenant == tenant and t.service in services)
        own = c.alert_name(target.alert) if target.alert else c.ALERT_PROBE_STALE
        base = next(
            (k for k in cases if k.labels["alertname"] == own and not _escalated(k)),
            next(k for k in cases if k.labels["alertname"] == c.ALERT_PROBE_STALE),
        )
        labels = {**base.labels, **_scope_labels(target.static_labels())}
        labels = {k: v for k, v in sorted(labels.items()) if v}
        name = f"{base.name} during maintenance {', '.join(names)}"
        receivers = expected_receivers(config, labels)
        out.append(RoutingCase(name, labels, receivers, expected_mutes(config, labels)))
    return tuple(out)


def _escalated(case: RoutingCase) -> bool:
    return case.labels.get(c.LABEL_ESCALATION_LEVEL, "0") != "0"


def _scope_labels(static: Mapping[str, str]) -> dict[str, str]:
    keep = (c.LABEL_PROBE, c.LABEL_KIND, c.LABEL_TENANT, c.LABEL_TIER, c.LABEL_SERVICE)
    return {k: static.get(k, "") for k in keep}
