"""What a set of failing targets fires, whom Alertmanager tells, and how soon: from the config,
the rules generated from it and its generated routing tree, never from a list kept by hand.

Each failing target fires its alert definition's rules (level 0 at once, each escalation level
after its `for`); each service whose probes of one tenant all fail fires the outage alert. The
generated inhibit rules then mute what they mute, and each alert walks the generated routing
tree as Alertmanager walks it, to routes with their effective timings and time intervals.

    for alert in expected_alerts(config, failing, Timing(scrape=5, evaluation=5), now):
        print(alert.labels["alertname"], [r.receiver for r in alert.routes])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from exporter import conventions as c
from exporter.config import Config, Target, parse_duration
from exporter.demo import timeintervals
from exporter.generate.alertmanager import alertmanager_config
from exporter.generate.alerts import definition_rules
from exporter.generate.am_model import AlertmanagerConfig, InhibitRule, Route
from exporter.generate.model import AlertingRule
from exporter.generate.outage import outage_rule, outages

Labels = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Timing:
    """How often Prometheus scrapes and evaluates, in seconds."""

    scrape: float
    evaluation: float


@dataclass(frozen=True, slots=True)
class RouteTo:
    """A route an alert ends at: its receiver, its effective timings, and whether its time
    intervals hold notifications back at the moment asked about."""

    receiver: str  # the generated receiver: config receiver names joined by "+"
    origin: str  # where it comes from in the config: "routing.contexts.zebra_opportunity"
    group_wait: float
    group_interval: float
    held: str | None  # why it notifies nobody now, or None

    @property
    def receivers(self) -> tuple[str, ...]:
        return tuple(self.receiver.split("+"))


@dataclass(frozen=True, slots=True)
class Inhibition:
    """The alert that mutes another, and whether it surely fires first."""

    source: str  # "BusinessServiceOutage service=auth tenant=marketedge"
    # False: the muted alert may reach Alertmanager, and go out, before its source fires.
    from_the_start: bool


@dataclass(frozen=True, slots=True)
class Expected:
    """An alert the failing targets fire, and what becomes of it."""

    labels: dict[str, str]
    after: float  # the rule's `for`: 0, or an escalation level's delay
    routes: tuple[RouteTo, ...]
    inhibited: Inhibition | None
    floor: float  # the waits on the way: thresholds x intervals, scrape, evaluation, for
    detection: float  # the same, worst case: the last run's timeout added

    @property
    def alertname(self) -> str:
        return self.labels["alertname"]

    @property
    def level(self) -> int:
        return int(self.labels.get(c.LABEL_ESCALATION_LEVEL, "0") or 0)

    def within(self, route: RouteTo) -> float:
        """The most seconds from the fault to a notification at `route`: a new group waits
        group_wait; a group alive from an earlier alert, up to its next group_interval."""
        return self.detection + max(route.group_wait, route.group_interval)

    def floor_at(self, route: RouteTo) -> float:
        """The waits on the way to `route` when its group is new: floor + group_wait."""
        return self.floor + route.group_wait


def expected_alerts(
    config: Config, failing: Sequence[Target], timing: Timing, now: datetime
) -> list[Expected]:
    """The alerts `failing` fires in `config`: level 0 first, then escalations, in rule order."""
    am = alertmanager_config(config)
    fired = _fired(config, failing, timing)
    expected = []
    for alert in fired:
        routes = tuple(routes_of(am, config, alert.labels, now))
        # Alertmanager applies inhibition when it flushes a group: group_wait after the first.
        flushed = alert.earliest + min((r.group_wait for r in routes), default=0.0)
        expected.append(
            Expected(
                labels=alert.labels,
                after=alert.after,
                routes=routes,
                inhibited=_inhibition(am.inhibit_rules, alert, flushed, fired),
                floor=alert.floor,
                detection=alert.detection,
            )
        )
    return sorted(expected, key=lambda e: e.level)


def routes_of(
    am: AlertmanagerConfig, config: Config, labels: Labels, now: datetime
) -> list[RouteTo]:
    """The routes an alert with `labels` ends at, as Alertmanager's Route.Match walks them."""
    return [_route_to(route, timings, config, now) for route, timings in _walk(am.route, labels)]


def describe_labels(labels: Labels, names: Sequence[str]) -> str:
    return " ".join(f"{name}={labels[name]}" for name in names if labels.get(name))


_IDENTITY = (c.LABEL_SERVICE, c.LABEL_TENANT)


@dataclass(frozen=True, slots=True)
class _Fired:
    labels: dict[str, str]
    after: float
    floor: float
    detection: float
    earliest: float  # the soonest it can reach Alertmanager: a run right after the fault


def _fired(config: Config, failing: Sequence[Target], timing: Timing) -> list[_Fired]:
    names = {t.name for t in failing}
    fired: list[_Fired] = []
    for target in failing:
        if target.alert is not None and target.alert in config.alerts:
            for rule in definition_rules(config, target.alert):
                labels = _labels(rule, target.static_labels())
                fired.append(_timed(labels, _for(rule), (target,), timing))
    for outage in outages(config):
        if all(t.name in names for t in outage.targets):
            fired.append(_timed(_labels(outage_rule(outage)), 0.0, outage.targets, timing))
    return fired


def _timed(
    labels: dict[str, str], after: float, targets: Sequence[Target], timing: Timing
) -> _Fired:
    """Until the last of `targets` turns failing, then a scrape, an evaluation and `for`."""
    prometheus = timing.scrape + timing.evaluation + after
    return _Fired(
        labels,
        after,
        floor=max(t.failure_threshold * t.interval for t in targets) + prometheus,
        detection=max(t.failure_threshold * t.interval + t.timeout for t in targets) + prometheus,
        earliest=max((t.failure_threshold - 1) * t.interval for t in targets) + after,
    )


def _labels(rule: AlertingRule, series: Labels | None = None) -> dict[str, str]:
    # What Prometheus sends: the series' labels, the rule's over them, its name; none empty.
    labels = {**(series or {}), **rule.labels, "alertname": rule.alert}
    return {name: value for name, value in labels.items() if value}


def _for(rule: AlertingRule) -> float:
    return parse_duration(rule.for_) if rule.for_ else 0.0


def _inhibition(
    rules: Sequence[InhibitRule], alert: _Fired, flushed: float, fired: Sequence[_Fired]
) -> Inhibition | None:
    """The first alert that an inhibit rule lets mute `alert`, the surest first."""
    found = []
    for rule in rules:
        if not all(m.matches(alert.labels) for m in rule.target):
            continue
        for source in fired:
            if (
                source is not alert
                and source.after <= alert.after
                and all(m.matches(source.labels) for m in rule.source)
                and all(source.labels.get(n, "") == alert.labels.get(n, "") for n in rule.equal)
            ):
                name = f"{source.labels['alertname']} {describe_labels(source.labels, _IDENTITY)}"
                found.append(Inhibition(name.strip(), source.detection <= flushed))
    return max(found, key=lambda i: i.from_the_start, default=None)


_Timings = tuple[float, float]  # group_wait, group_interval


def _walk(
    route: Route, labels: Labels, inherited: _Timings = (0.0, 0.0)
) -> list[tuple[Route, _Timings]]:
    """am_check.walk, carrying each route's effective timings down the tree."""
    if not all(m.matches(labels) for m in route.matchers):
        return []
    timings = (
        parse_duration(route.group_wait) if route.group_wait else inherited[0],
        parse_duration(route.group_interval) if route.group_interval else inherited[1],
    )
    matched: list[tuple[Route, _Timings]] = []
    for child in route.routes:
        found = _walk(child, labels, timings)
        matched += found
        if found and not child.continue_:
            break
    return matched or [(route, timings)]


def _route_to(route: Route, timings: _Timings, config: Config, now: datetime) -> RouteTo:
    return RouteTo(
        receiver=route.receiver,
        origin=route.origin or "routing.receiver",
        group_wait=timings[0],
        group_interval=timings[1],
        held=_held(route, config, now),
    )


def _held(route: Route, config: Config, now: datetime) -> str | None:
    """Why the route's time intervals hold notifications back at `now`, or None."""
    intervals = config.routing.time_intervals if config.routing is not None else {}
    for name in route.mute_time_intervals:
        if timeintervals.in_any(intervals.get(name, []), now):
            return f"muted by {name} ({timeintervals.describe(intervals.get(name, []))})"
    active = route.active_time_intervals
    if active and not any(timeintervals.in_any(intervals.get(n, []), now) for n in active):
        when = "; ".join(f"{n}: {timeintervals.describe(intervals.get(n, []))}" for n in active)
        return f"active only in {when}"
    return None
