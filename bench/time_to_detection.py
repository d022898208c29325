"""Time to detection and fidelity: each demo fault -> its first true notification, and the
notifications that should not have been sent.

    .venv/bin/python bench/time_to_detection.py [--runs 1] [--factor 10] [--only login_500,...]

The demo's arrangement with its timings (`demo --fast`): examples/marketedge.yaml with every
timing divided by --factor, the demo API, the exporter, the demo's PostgreSQL and Redis,
Prometheus scraping and evaluating every 5 s and Alertmanager on the generated bundle, every
receiver a webhook to a local sink. The scenarios run one after another on the same stack, as a
person tries them, each from a quiet system (no target failing, no alert firing): so
Alertmanager may still hold a group from the previous one, as it would for that person.

For each scenario: the fault; the seconds until the awaited notification (the alert and the
receivers a person waits for) against its floor, the soonest it can come when its group is new
(the fault just before a run, failure_threshold - 1 more intervals, the timeout of a check that
hangs, `for`, group_wait, Prometheus reading it at once), and its worst case as the banner
states it; then the fix, once the window of every expected alert and escalation has passed (or,
for `fix_early`, as soon as the awaited notification arrives), never where an escalation may
fall due before the fix can be seen (a run of the broken target, a scrape, an evaluation): true
when it fires, it would still arrive after the fix; then a watch for what still
comes, until every broken target passes again, its alerts resolve at every route, and what
depends on it may page again (the quiet after its cause's fix, generate/symptoms.py). A
notification counts as wrong when it fires after the fix, names a target or service the fault
did not break, is an alert whose text is untrue of this fault (the scenario lists them, from
issue 14), or reaches receivers the cause must not reach. One after the fix whose alert fired
in Prometheus before the fix could be seen is counted apart, as in flight at the fix: true of
what Prometheus knew, delivered after it (a group_wait, a group_interval).
Asserts nothing: a measurement, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from exporter.config import Config, load_config
from exporter.demo import backends
from exporter.demo.app import DEMO_PASSWORD, create_demo_app
from exporter.demo.expect import Expected, Failure, expected_alerts, quiet_after
from exporter.demo.fast import DEMO_INTERVAL, FAST_FACTOR, speed_up
from exporter.demo.notifications import Notification, describe, new_notifications, notifications
from exporter.demo.ports import Address
from exporter.demo.relocate import relocated
from exporter.demo.run import API, REFERENCE, TIMING, serving
from exporter.demo.scenarios import Fault, demo_faults
from exporter.demo.sink import WebhookSink
from exporter.demo.stack import Stack, StackOptions, free_port, started_stack, wait_until
from exporter.generate.rules.standins import stand_ins
from exporter.runtime import Runtime
from exporter.server import create_app

QUIET_TIMEOUT = 240.0
MARGIN = 5.0  # beyond a computed worst case, for the HTTP hops and the sink
WINDOW_CAP = 150.0  # escalations due later than this are not waited for
Labels = Mapping[str, str]
Receivers = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    fault: str  # the name of a demo fault (exporter/demo/scenarios.py)
    # The notification a person waits for, by its alert's labels and its receivers.
    awaits: Callable[[Labels, Receivers], bool]
    untrue: Mapping[str, str] = field(default_factory=dict)  # alert name -> what it says wrongly
    forbidden: frozenset[str] = frozenset()  # receivers this cause must not reach
    fix_early: bool = False  # fix as soon as the awaited notification arrives

    def waits_for(self, labels: Labels, receivers: Receivers) -> bool:
        """A notification the scenario waits for: what it awaits, and true of the fault."""
        return labels.get("alertname", "") not in self.untrue and self.awaits(labels, receivers)


ZEBRA = ("email_matt_lindop", "email_sales_team", "slack_zebra_channel")
ONCALL = ("email_immediate", "pagerduty_critical", "slack_emergency")
SECURITY = ("email_legal", "email_security_team", "pagerduty_security", "slack_security")
WHOLE_API = {"CompleteApiFailure": "says the whole API is down; one part is"}
LOGIN_UNTRUE = WHOLE_API | {"PerformanceDegradation": "says responses are slow; they are 500s"}


def _level_zero(labels: Labels) -> bool:
    return labels.get("escalation_level", "0") == "0"


SCENARIOS = (
    # The Zebra login flow fails too, a symptom of auth: on-call hears of the cause.
    Scenario(
        "login_500",
        "login_500",
        lambda labels, to: labels["alertname"] == "AuthSystemFailure" and to == ONCALL,
        LOGIN_UNTRUE,
    ),
    Scenario(
        "admin_router_dropped",
        "admin_router_dropped",
        lambda labels, to: _level_zero(labels) and to == ZEBRA,  # the outage, or the failure
        WHOLE_API,
    ),
    Scenario(
        "database_paused",
        "postgres_paused",
        lambda labels, to: labels.get("service") == "database" and to == ONCALL,
        WHOLE_API | {"TenantIsolationBreach": "says isolation failed; the check could not run"},
        forbidden=frozenset([*SECURITY, "email_ciso"]),
    ),
    Scenario(
        "rls_off",
        "rls_off",
        lambda labels, to: labels["alertname"] == "TenantIsolationBreach" and to == SECURITY,
    ),
    Scenario(
        "redis_stopped",
        "redis_paused",
        lambda labels, to: labels["alertname"] == "SessionStorageFailure" and _level_zero(labels),
    ),
    # Fixed when on-call hears of the login failure: its first escalation is due 18 s later.
    Scenario(
        "fix_before_escalation",
        "login_500",
        lambda labels, to: labels["alertname"] == "AuthSystemFailure" and _level_zero(labels),
        LOGIN_UNTRUE,
        fix_early=True,
    ),
)


@dataclass(frozen=True, slots=True)
class Fix:
    """When a fault was undone, and how long until a run, a scrape and an evaluation see it."""

    monotonic: float
    wall: float  # time.time(), to compare with the alerts' startsAt
    seen: float

    def fired_after(self, n: Notification) -> float:
        """Seconds from the fix to the moment the notified alert fired in Prometheus."""
        return _epoch(n.starts_at) - self.wall

    def in_flight(self, n: Notification) -> bool:
        """Fired before the fix could be seen, the notification on its way: true of what
        Prometheus knew, and nothing could have known better."""
        return self.fired_after(n) <= self.seen


def _epoch(rfc3339: str) -> float:
    """Alertmanager's startsAt ("2026-12-06T07:33:01.123456789Z") as time.time() counts."""
    whole, _, fraction = rfc3339.rstrip("Z").partition(".")
    stamp = datetime.fromisoformat(whole).replace(tzinfo=UTC).timestamp()
    return stamp + float(f"0.{fraction or 0}")


@dataclass
class Outcome:
    scenario: str
    awaited: str
    floor: float
    within: float
    held: str | None
    seconds: float | None = None
    expected: int = 0  # firing notifications that were true
    wrong: list[str] = field(default_factory=list)
    # True of what Prometheus knew, fired before the fix could be seen, delivered after it.
    in_flight: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Lab:
    """What stays up across scenarios."""

    config: Config
    faults: dict[str, Fault]
    runtime: Runtime
    stack: Stack
    sink: WebhookSink


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--factor", type=float, default=FAST_FACTOR)
    parser.add_argument("--only", default="", help="scenario names, comma-separated")
    args = parser.parse_args()
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only.split(",")]
    logging.getLogger("exporter").setLevel(logging.ERROR)  # not every target's state change
    outcomes: list[Outcome] = []
    with _lab(args.factor) as lab:
        for run in range(1, args.runs + 1):
            for scenario in chosen:
                outcome = _run(lab, scenario)
                outcomes.append(outcome)
                print(f"run {run} {_row(outcome)}", flush=True)
                for line in outcome.wrong:
                    print(f"    wrong: {line}", flush=True)
                for line in outcome.in_flight:
                    print(f"    in flight at the fix: {line}", flush=True)
    _table(outcomes)
    return 0


@contextlib.contextmanager
def _lab(factor: float) -> Iterator[Lab]:
    os.environ.setdefault("ZEBRA_DEMO_PASSWORD", DEMO_PASSWORD)
    backends.set_environment()
    app = create_demo_app()
    api: Address = ("127.0.0.1", free_port())
    with (
        serving(app, api, "the demo API"),
        backends.started() as databases,
        WebhookSink() as sink,
        tempfile.TemporaryDirectory() as tmp,
    ):
        config, _ = databases.adapted(relocated(load_config(REFERENCE), {API: api}))
        config = speed_up(config, factor)
        runtime = Runtime(config, None)
        exporter = ("127.0.0.1", free_port())
        with serving(create_app(runtime), exporter, "the exporter"):
            address = f"{exporter[0]}:{exporter[1]}"
            options = StackOptions(address, DEMO_INTERVAL, DEMO_INTERVAL, sink.url)
            with started_stack(config, Path(tmp), options) as stack:
                faults = {f.name: f for f in demo_faults(api, app.state.faults, databases)}
                yield Lab(config, faults, runtime, stack, sink)


def _run(lab: Lab, scenario: Scenario) -> Outcome:
    fault = lab.faults[scenario.fault]
    broken = fault.failures(lab.config)
    alerts = expected_alerts(lab.config, broken, TIMING, datetime.now(UTC))
    outcome = _expectation(scenario, alerts)
    _wait_quiet(lab)
    start = time.monotonic()
    fault.apply()
    try:
        window = _window(alerts, outcome.within, _fix_seen(broken))

        def awaited(n: Notification) -> bool:
            return n.status == "firing" and scenario.waits_for(n.labels, n.receivers)

        first = _first(lab, start, window, awaited)
        if first is not None:
            outcome.seconds = first.monotonic - start
        if not scenario.fix_early or first is None:
            _pause(lab, start + window - time.monotonic())
    finally:
        fault.undo()
    fixed = Fix(time.monotonic(), time.time(), _fix_seen(broken))
    _pause(lab, _after_fix(lab.config, broken, alerts))
    seen = [n for n in new_notifications(lab.sink.records) if n.monotonic > start]
    firing = [n for n in seen if n.status == "firing"]
    verdicts = [(n, _wrong(n, scenario, broken, fixed)) for n in firing]
    outcome.wrong = [f"{describe(n)}  ({why})" for n, why in verdicts if why]
    outcome.in_flight = [
        f"{describe(n)}  (fired {fixed.fired_after(n):+.0f} s from the fix)"
        for n, why in verdicts
        if not why and n.monotonic > fixed.monotonic
    ]
    outcome.expected = len(firing) - len(outcome.wrong) - len(outcome.in_flight)
    return outcome


def _expectation(scenario: Scenario, alerts: list[Expected]) -> Outcome:
    """What the scenario awaits, its floor (the soonest candidate's) and its worst case (the
    soonest of the candidates that nothing inhibits, or the latest when all may be)."""
    candidates = [
        (a, r) for a in alerts for r in a.routes if scenario.waits_for(a.labels, r.receivers)
    ]
    if not candidates:
        sys.exit(f"{scenario.name}: no expected alert matches what the scenario awaits")
    names = sorted({a.alertname for a, _ in candidates})
    receivers = sorted({" + ".join(r.receivers) for _, r in candidates})
    sure = [a.within(r) for a, r in candidates if a.inhibited is None]
    held = [r.held for _, r in candidates]
    return Outcome(
        scenario.name,
        f"{' or '.join(names)} -> {' or '.join(receivers)}",
        floor=min(a.floor_at(r) for a, r in candidates),
        within=min(sure) if sure else max(a.within(r) for a, r in candidates),
        held=held[0] if all(held) else None,
    )


def _first(
    lab: Lab, start: float, seconds: float, matches: Callable[[Notification], bool]
) -> Notification | None:
    """The first notification after `start` that `matches`, waiting until `seconds` after it."""
    found = lab.sink.matching_within(
        lambda p: p.monotonic > start and any(matches(n) for n in notifications(p)),
        max(0.0, start + seconds - time.monotonic()),
    )
    return next((n for n in notifications(found[0]) if matches(n)), None) if found else None


def _pause(lab: Lab, seconds: float) -> None:
    """Let `seconds` pass while the sink keeps recording."""
    lab.sink.matching_within(lambda post: False, max(0.0, seconds))


def _window(alerts: list[Expected], awaited: float, seen: float) -> float:
    """Long enough for the expected alerts and escalations to reach their routes, up to
    WINDOW_CAP; never shorter than the awaited notification's worst case. Never where an
    escalation may fall due before the fix can be seen (`seen` after it): true when it fires,
    it would still arrive after the fix. The fix then comes before that escalation can fall due,
    or, when that is too soon for the awaited notification, once it has arrived."""
    every = max(a.within(r) for a in alerts for r in a.routes)
    planned = max(awaited, min(every, WINDOW_CAP)) + MARGIN
    due = [
        (a.earliest - seen, max(a.within(r) for r in a.routes) + MARGIN)
        for a in alerts
        if a.level > 0 and a.routes and a.notifies
    ]
    free = [
        moment
        for moment in (planned, *(edge for span in due for edge in span))
        if moment >= awaited + MARGIN and not any(start < moment < end for start, end in due)
    ]
    before = [moment for moment in free if moment <= planned]
    return max(before) if before else min(free)


def _fix_seen(broken: list[Failure]) -> float:
    """The longest a fix takes to reach Prometheus: a broken target's next run (an interval,
    its timeout), a scrape and an evaluation."""
    slowest = max(f.target.interval + f.target.timeout for f in broken)
    return slowest + TIMING.scrape + TIMING.evaluation


def _after_fix(config: Config, broken: list[Failure], alerts: list[Expected]) -> float:
    """Until the broken targets pass again and their alerts resolve at every route, until
    what depends on them is no longer quiet as their symptom, and until the alerts an outage
    or a whole-of alert stood for are no longer quiet under it (generate/standins.py)."""
    recovery = max(t.success_threshold * t.interval + t.timeout for t in (f.target for f in broken))
    seen = recovery + TIMING.scrape + TIMING.evaluation
    slowest = max(r.group_interval for a in alerts for r in a.routes)
    quiet = quiet_after(config, broken, TIMING)
    fired = {a.alertname for a in alerts}
    definitions = {f.target.alert for f in broken if f.target.alert in config.alerts}
    under = [
        stand_in.seconds
        for name in definitions
        if config.alerts[name].covers is None
        for stand_in in stand_ins(config, name)
        if stand_in.alertname in fired
    ]
    return (
        max(
            seen + slowest,
            quiet.seconds + TIMING.evaluation if quiet else 0.0,
            seen + max(under, default=0.0),
        )
        + MARGIN
    )


def _wrong(n: Notification, scenario: Scenario, broken: list[Failure], fixed: Fix) -> str:
    if n.monotonic > fixed.monotonic and not fixed.in_flight(n):
        level = n.escalation_level
        what = f"escalation level {level}" if level else "level 0"
        return f"{what}, fired {fixed.fired_after(n):.0f} s after the fix, when it could be seen"
    probe, service = n.labels.get("probe"), n.labels.get("service")
    if probe and probe not in {f.target.name for f in broken}:
        return f"{probe} was not broken"
    if not probe and service and service not in {f.target.service for f in broken}:
        return f"service {service} was not broken"
    if n.alertname in scenario.untrue:
        return scenario.untrue[n.alertname]
    if forbidden := set(n.receivers) & scenario.forbidden:
        return f"{', '.join(sorted(forbidden))} must not hear of this cause"
    return ""


def _wait_quiet(lab: Lab) -> None:
    def quiet() -> bool:
        states = lab.runtime.scheduler.states.values()
        firing = lab.stack.query('ALERTS{alertstate="firing",alertname!="Watchdog"}')
        return not any(s.failing for s in states) and not firing

    if not wait_until(quiet, QUIET_TIMEOUT):
        sys.exit(f"still failing or firing after {QUIET_TIMEOUT:g} s")


def _row(o: Outcome) -> str:
    if o.held is not None:
        seconds = f"held: {o.held}"
    elif o.seconds is None:
        seconds = "not notified"
    else:
        seconds = f"{o.seconds:5.1f} s (floor {o.floor:g} s, ratio {_ratio(o)}, "
        seconds += f"worst case {o.within:g} s)"
    counts = f"true {o.expected}, wrong {len(o.wrong)}, in flight {len(o.in_flight)}"
    return f"{o.scenario}: {o.awaited}: {seconds}; {counts}"


def _ratio(o: Outcome) -> str:
    """Seconds over floor; none for a floor of 0 (a run at the fault can find it at once)."""
    return f"{o.seconds / o.floor:.2f}" if o.seconds is not None and o.floor > 0 else "-"


def _table(outcomes: list[Outcome]) -> None:
    print(
        f"\n{'scenario':<22} {'seconds':>7} {'floor':>5} {'ratio':>5} {'worst':>5} "
        f"{'true':>4} {'wrong':>5} {'flight':>6}  awaited"
    )
    for o in outcomes:
        seconds = "held" if o.held else "-" if o.seconds is None else f"{o.seconds:.1f}"
        ratio = _ratio(o) if not o.held else "-"
        print(
            f"{o.scenario:<22} {seconds:>7} {o.floor:>5g} {ratio:>5} {o.within:>5g} "
            f"{o.expected:>4} {len(o.wrong):>5} {len(o.in_flight):>6}  {o.awaited}"
        )
    print(f"\nwrong notifications: {sum(len(o.wrong) for o in outcomes)} (goal 0)")
    print(f"in flight at a fix: {sum(len(o.in_flight) for o in outcomes)}")


if __name__ == "__main__":
    sys.exit(main())
