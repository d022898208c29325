"""What a set of failing targets fires, whom Alertmanager tells, and how soon: from the config,
the rules generated from it and its generated routing tree, never from a list kept by hand.

Each failing target fails for a reason (conventions.REASON_OUTCOMES): a violation fires its
alert definition's rules, a check that could not run fires them too unless the definition fires
on violations only, which raises BusinessCannotVerify instead (after its hold). Level 0 fires at
once, each escalation level after its `for`. A service whose probes of one tenant all fail fires
the outage alert; a whole-of definition (`covers`) fires for a tenant once its quorum of the
covered targets fails. A maintenance window covering an alert's tenant and service keeps it
quiet. The generated inhibit rules then mute what they mute (dependencies, outages, whole-of
alerts, emergencies), and each alert walks the generated routing tree as Alertmanager walks it,
to routes with their effective timings and time intervals.

    failing = [Failure(target, "unexpected_status") for target in broken]
    for alert in expected_alerts(config, failing, Timing(scrape=5, evaluation=5), now):
        print(alert.labels["alertname"], [r.receiver for r in alert.routes])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from exporter import conventions as c
from exporter.config import Alert, Config, Target, parse_duration
from exporter.config.alerting import TimeInterval
from exporter.demo import timeintervals
from exporter.generate.alertmanager.files import alertmanager_config
from exporter.generate.alertmanager.maintenance import interval_name
from exporter.generate.alertmanager.model import AlertmanagerConfig, InhibitRule, Route
from exporter.generate.model import AlertingRule
from exporter.generate.rules.alerts import definition_rules, fired_definitions
from exporter.generate.rules.definition import members
from exporter.generate.rules.outage import outage_rule, outages
from exporter.generate.rules.symptoms import causes, quiet_seconds

Labels = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Failure:
    """A target a fault makes fail, and the failure reason its runs get."""

    target: Target
    reason: str  # conventions.FAILURE_REASONS

    @property
    def violation(self) -> bool:
        """The check ran and found the problem (not: it could not run)."""
        return c.is_violation(self.reason)

    @property
    def soonest(self) -> float:
        """The soonest the target turns failing after the fault: a run right at it, then
        failure_threshold - 1 more; a run that hangs fails only at its timeout."""
        hang = self.target.timeout if self.reason == c.REASON_TIMEOUT else 0.0
        return (self.target.failure_threshold - 1) * self.target.interval + hang

    @property
    def latest(self) -> float:
        """The latest: a run starts just before the fault, then failure_threshold runs, the
        last taking its whole timeout."""
        return self.target.failure_threshold * self.target.interval + self.target.timeout


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
    """The alert that mutes another, and whether it surely mutes it before it goes out."""

    source: str  # "BusinessServiceOutage service=auth tenant=marketedge"
    # False: the muted alert may reach Alertmanager, and go out, before its source fires.
    from_the_start: bool


@dataclass(frozen=True, slots=True)
class Expected:
    """An alert the failing targets fire, and what becomes of it."""

    labels: dict[str, str]
    after: float  # the rule's `for`: 0, a hold, or an escalation level's delay
    routes: tuple[RouteTo, ...]
    inhibited: Inhibition | None
    quiet: str | None  # why the rule does not fire at all now (a maintenance window), or None
    earliest: float  # the soonest it fires in Prometheus after the fault
    detection: float  # the latest: thresholds x intervals, timeout, scrape, evaluation, `for`

    @property
    def alertname(self) -> str:
        return self.labels["alertname"]

    @property
    def level(self) -> int:
        return int(self.labels.get(c.LABEL_ESCALATION_LEVEL, "0") or 0)

    @property
    def notifies(self) -> bool:
        """It reaches people: it fires, and nothing surely mutes it."""
        sure = self.inhibited is not None and self.inhibited.from_the_start
        return self.quiet is None and not sure

    def within(self, route: RouteTo) -> float:
        """The most seconds from the fault to a notification at `route`: a new group waits
        group_wait; a group alive from an earlier alert, up to its next group_interval."""
        return self.detection + max(route.group_wait, route.group_interval)

    def floor_at(self, route: RouteTo) -> float:
        """The fewest seconds from the fault to a notification at `route`, its group new."""
        return self.earliest + route.group_wait


def expected_alerts(
    config: Config, failing: Sequence[Failure], timing: Timing, now: datetime
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
                inhibited=_inhibition(am.inhibit_rules, alert, flushed, fired, config, now),
                quiet=_quiet(config, alert.labels, now),
                earliest=alert.earliest,
                detection=alert.detection,
            )
        )
    return sorted(expected, key=lambda e: e.level)


@dataclass(frozen=True, slots=True)
class QuietAfter:
    """The targets whose alerts stay quiet after a fault is undone, as symptoms of a failing
    target until they can be seen fixed (generate/rules/symptoms.py), and for how long at most."""

    dependents: tuple[str, ...]
    seconds: float  # from the undo: the cause seen fixed, its last failed sample, then the quiet


def quiet_after(config: Config, failing: Sequence[Failure], timing: Timing) -> QuietAfter | None:
    """What stays quiet after `failing` is fixed, or None when no target depends on them."""
    broken = {f.target.name for f in failing}
    longest, dependents = 0.0, []
    for target in config.targets:
        found = [d for d in causes(config, target) if d.name in broken]
        if found:
            dependents.append(target.name)
            fixed = max(d.success_threshold * d.interval + d.timeout for d in found)
            longest = max(longest, fixed + timing.scrape + quiet_seconds([target]))
    return QuietAfter(tuple(dependents), longest) if dependents else None


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
    earliest: float
    detection: float


def _fired(config: Config, failing: Sequence[Failure], timing: Timing) -> list[_Fired]:
    fired: list[_Fired] = []
    for failure in failing:
        target = failure.target
        alert = config.alerts.get(target.alert or "")
        if alert is None or alert.covers is not None:
            continue
        for rule in definition_rules(config, target.alert or ""):
            if _fires_on(alert, rule, failure):
                labels = _labels(rule, target.static_labels())
                fired.append(_timed(labels, _for(rule), [failure], timing))
    names = {f.target.name: f for f in failing}
    for outage in outages(config):
        if all(t.name in names for t in outage.targets):
            down = [names[t.name] for t in outage.targets]
            fired.append(_timed(_labels(outage_rule(outage)), 0.0, down, timing))
    for tenant, rules, down in _wholes(config, names):
        for rule in rules:
            fired.append(_timed(_labels(rule, {c.LABEL_TENANT: tenant}), _for(rule), down, timing))
    return fired


def _fires_on(alert: Alert, rule: AlertingRule, failure: Failure) -> bool:
    """A definition's rule fires on any failure; one that fires on violations only, on a
    violation, its BusinessCannotVerify on a check that could not run."""
    if rule.alert == c.ALERT_CANNOT_VERIFY:
        return not failure.violation
    return alert.fires_on != "violation" or failure.violation


def _wholes(
    config: Config, failing: Mapping[str, Failure]
) -> Iterator[tuple[str, tuple[AlertingRule, ...], list[Failure]]]:
    """Each whole-of definition and tenant whose quorum of covered targets fails: the tenant,
    the definition's rules and the failures that count."""
    for name in fired_definitions(config):
        alert = config.alerts[name]
        if alert.covers is None:
            continue
        by_tenant: dict[str, list[Target]] = {}
        for target in members(config, name):
            by_tenant.setdefault(target.tenant, []).append(target)
        for tenant, covered in sorted(by_tenant.items()):
            down = [failing[t.name] for t in covered if t.name in failing]
            if down and len(down) * 100 >= len(covered) * alert.quorum:
                yield tenant, definition_rules(config, name), down


def _timed(
    labels: dict[str, str], after: float, failures: Sequence[Failure], timing: Timing
) -> _Fired:
    """Until the last of `failures` turns failing, then (at worst) a scrape and an evaluation,
    then `for`."""
    return _Fired(
        labels,
        after,
        earliest=max(f.soonest for f in failures) + after,
        detection=max(f.latest for f in failures) + timing.scrape + timing.evaluation + after,
    )


def _labels(rule: AlertingRule, series: Labels | None = None) -> dict[str, str]:
    # What Prometheus sends: the series' labels, the rule's over them, its name; none empty.
    labels = {**(series or {}), **rule.labels, "alertname": rule.alert}
    return {name: value for name, value in labels.items() if value}


def _for(rule: AlertingRule) -> float:
    return parse_duration(rule.for_) if rule.for_ else 0.0


def _inhibition(
    rules: Sequence[InhibitRule],
    alert: _Fired,
    flushed: float,
    fired: Sequence[_Fired],
    config: Config,
    now: datetime,
) -> Inhibition | None:
    """The alert that an inhibit rule lets mute `alert`, the surest first: one that surely
    reaches Alertmanager before `alert` is first flushed (`flushed`)."""
    found = []
    for rule in rules:
        if not all(m.matches(alert.labels) for m in rule.target):
            continue
        for source in fired:
            if (
                source is not alert
                and _quiet(config, source.labels, now) is None
                and all(m.matches(source.labels) for m in rule.source)
                and all(source.labels.get(n, "") == alert.labels.get(n, "") for n in rule.equal)
            ):
                name = f"{source.labels['alertname']} {describe_labels(source.labels, _IDENTITY)}"
                found.append(Inhibition(name.strip(), source.detection <= flushed))
    return max(found, key=lambda i: i.from_the_start, default=None)


def _quiet(config: Config, labels: Labels, now: datetime) -> str | None:
    """The maintenance windows that keep an alert of this tenant and service from firing."""
    service = labels.get(c.LABEL_SERVICE, "")
    if not service:  # a whole-of or SLO alert: no window covers it
        return None
    tenant = labels.get(c.LABEL_TENANT, "")
    held = [
        f"maintenance window {name} ({_window_text(config, name)})"
        for name, window in config.maintenance.items()
        if window.covers(tenant, service) and window.active_at(now)
    ]
    return "; ".join(held) or None


_Timings = tuple[float, float]  # group_wait, group_interval


def _walk(
    route: Route, labels: Labels, inherited: _Timings = (0.0, 0.0)
) -> list[tuple[Route, _Timings]]:
    """validate.walk (generate/alertmanager/), with each route's effective timings."""
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
    intervals = _intervals(config)
    for name in route.mute_time_intervals:
        if name in intervals and intervals[name][0](now):
            return f"muted by {name} ({intervals[name][1]})"
    active = route.active_time_intervals
    if active and not any(n in intervals and intervals[n][0](now) for n in active):
        when = "; ".join(f"{n}: {intervals[n][1]}" for n in active if n in intervals)
        return f"active only in {when}"
    return None


def _intervals(config: Config) -> dict[str, tuple[Callable[[datetime], bool], str]]:
    """Each time interval of the generated config by name: whether it holds at a moment, and
    in words. The routing's own, and a `maintenance_<window>` one per maintenance window."""
    out: dict[str, tuple[Callable[[datetime], bool], str]] = {}
    if config.routing is not None:
        for name, entries in config.routing.time_intervals.items():
            out[name] = (_holds(entries), timeintervals.describe(entries))
    for name, window in config.maintenance.items():
        out[interval_name(name)] = (window.active_at, _window_text(config, name))
    return out


def _holds(entries: Sequence[TimeInterval]) -> Callable[[datetime], bool]:
    return lambda when: timeintervals.in_any(entries, when)


def _window_text(config: Config, name: str) -> str:
    window = config.maintenance[name]
    if window.start is not None and window.end is not None:
        return f"{window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC"
    return timeintervals.describe(window.recurring)
