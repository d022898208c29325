"""Validate a routing tree the way Alertmanager does, and against the alerts that will meet it.

Alertmanager's own rules: the root route has a receiver and no matchers, receiver names are
unique, every receiver and time interval a route names is defined. Then each routing case is
walked through the tree as Alertmanager walks it (`walk`); a case that reaches other receivers
than the policy says is an error, typically a `continue` missing or routes in the wrong order.
A route that no case reaches is reported apart (`unreachable`): the config routes something
that none of its alerts carries. So is a case that reaches one receiver through two routes
(`repeated_receivers`): Alertmanager groups and notifies per route, so that receiver would be
sent every notification twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence

from exporter.config.maintenance import INTERVAL_PREFIX
from exporter.generate.alertmanager.model import AlertmanagerConfig, Route, RoutingCase


def walk(route: Route, labels: Mapping[str, str]) -> list[Route]:
    """The routes an alert ends at, in order: Alertmanager's Route.Match."""
    if not all(m.matches(labels) for m in route.matchers):
        return []
    matched: list[Route] = []
    for child in route.routes:
        found = walk(child, labels)
        matched += found
        if found and not child.continue_:
            break
    return matched or [route]


def receivers_of(config: AlertmanagerConfig, labels: Mapping[str, str]) -> list[str]:
    """What `amtool config routes test` prints for these labels, in its order."""
    return [route.receiver for route in walk(config.route, labels)]


def problems(config: AlertmanagerConfig, cases: Sequence[RoutingCase]) -> list[str]:
    """Everything that makes the tree invalid or wrong for one of the cases."""
    found = list(_structure(config))
    for case in cases:
        got = sorted(set(receivers_of(config, case.labels)))
        if got != sorted(case.receivers):
            found.append(
                f"routing case {case.name!r}: reaches {_names(got)}, "
                f"the routing policy says {_names(case.receivers)}"
            )
        found += _mute_problems(config, case)
    return found


def _mute_problems(config: AlertmanagerConfig, case: RoutingCase) -> list[str]:
    """A case must end only at routes muted by exactly its maintenance intervals."""
    out = []
    for route in walk(config.route, case.labels):
        muted = sorted(i for i in route.mute_time_intervals if i.startswith(INTERVAL_PREFIX))
        if muted != sorted(case.mutes):
            out.append(
                f"routing case {case.name!r}: {route.origin or 'a route'} is muted during "
                f"{_names(muted)}, the maintenance windows say {_names(case.mutes)}"
            )
    return out


def unreachable(config: AlertmanagerConfig, cases: Sequence[RoutingCase]) -> list[str]:
    """One line per route that none of the cases ends at, root and catch-all aside. A route
    counts as reached when its copy under a maintenance route is (they share their origin)."""
    reached = {r.origin for case in cases for r in walk(config.route, case.labels)}
    lines = [
        f"{route.origin}: no alert of this config reaches the route "
        f"{{{', '.join(map(str, route.matchers))}}} (receiver {route.receiver})"
        for route in _descendants(config.route)
        if route.origin and route.origin not in reached
    ]
    return list(dict.fromkeys(lines))


def repeated_receivers(config: AlertmanagerConfig, cases: Sequence[RoutingCase]) -> list[str]:
    """One line per case and config receiver that the case reaches through several routes
    (a route's receiver delivers to one config receiver or more: its parts)."""
    parts = {r.name: [p.name for p in r.parts] for r in config.receivers}
    lines = []
    for case in cases:
        routes = walk(config.route, case.labels)
        reached = Counter(part for r in routes for part in parts.get(r.receiver, []))
        for name, count in sorted(reached.items()):
            if count > 1:
                where = ", ".join(r.origin or "route" for r in routes if name in parts[r.receiver])
                lines.append(
                    f"routing case {case.name!r}: reaches receiver {name} through {count} "
                    f"routes ({where}), which would notify it {count} times"
                )
    return lines


def _structure(config: AlertmanagerConfig) -> Iterator[str]:
    root = config.route
    if not root.receiver:
        yield "route: the root route needs a receiver"
    if root.matchers:
        yield "route: the root route must not have matchers: it takes every alert"
    names = [r.name for r in config.receivers]
    for name in sorted({n for n in names if names.count(n) > 1}):
        yield f"receivers: {name!r} is defined more than once"
    intervals = {t.name for t in config.time_intervals}
    for route in [root, *_descendants(root)]:
        where = route.origin or "route"
        if route.receiver and route.receiver not in names:
            yield f"{where}: receiver {route.receiver!r} is not defined"
        for name in (*route.mute_time_intervals, *route.active_time_intervals):
            if name not in intervals:
                yield f"{where}: time interval {name!r} is not defined"


def _descendants(route: Route) -> Iterator[Route]:
    for child in route.routes:
        yield child
        yield from _descendants(child)


def _names(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "no receiver"
