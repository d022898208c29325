"""promtool tests of the alerting rules, generated from the same config as the rules.

Each alert definition is tested on its first target, the way the exporter would report it:
a first failed run that leaves `business_probe_failing` at 0 (silence), failing at 1 (the
alert, with every label and annotation), each escalation level one step before its time
(not yet) and at it, then recovery (silence). Another target failing all along proves the
rule covers only its own. A definition that escalates is also fixed one step before its first
escalation: the last run succeeded, `failing` is still 1 (success_threshold not yet met), and
no level is notified. A definition that fires on violations only is also fed a check that
cannot run (ruletests/unverified.py); a whole-of one, a share of its targets down
(ruletests/whole.py);
one whose targets depend on others, quiet while they fail, and at level 0 while an alert
standing for them fires (ruletests/symptoms.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from exporter import conventions as c
from exporter.config import Alert, Config, Target, format_duration, parse_duration
from exporter.generate.model import AlertTest, ExpectedAlert, RuleTestFile, Series, TestCase
from exporter.generate.rules import messages as m
from exporter.generate.rules.alerts import ALERTS_FILE, fired_definitions
from exporter.generate.rules.definition import (
    definition_annotations,
    levels,
    placeholder_values,
    rule_labels,
    targets_of,
)
from exporter.generate.rules.symptoms import causes
from exporter.generate.ruletests.outage_selfmon import outage_test_file, self_monitoring_test_file
from exporter.generate.ruletests.series import scraped_labels, series

# The failure the tests simulate: a route that answers 404, as in the seeds' outage. It is a
# violation (the check ran and found it), so it fires definitions of either kind.
REASON = c.REASON_UNEXPECTED_STATUS
FIRST_FAILURE = 2  # two successful runs first


def alert_test_files(config: Config) -> list[RuleTestFile]:
    """rules/tests/alerts, outage and self-monitoring, as alert_rule_files has them."""
    # Imported here: both modules build on this one's helpers.
    from exporter.generate.ruletests.symptoms import definition_cases, stand_in_cases, whole_cases
    from exporter.generate.ruletests.unverified import unverified_case
    from exporter.generate.ruletests.whole import whole_case, whole_fix_case

    cases: list[TestCase] = []
    for name in fired_definitions(config):
        alert = config.alerts[name]
        if alert.covers is not None:
            cases.append(whole_case(config, name))
            if len(levels(alert)) > 1:
                cases.append(whole_fix_case(config, name))
            cases += whole_cases(config, name)
            continue
        cases.append(definition_case(config, name))
        if len(levels(alert)) > 1:
            cases.append(fix_case(config, name))
        if alert.fires_on == "violation":
            cases.append(unverified_case(config, name))
        cases += definition_cases(config, name) + stand_in_cases(config, name)
    files = []
    if cases:
        steps = [round(parse_duration(case.interval) * 1000) for case in cases]
        files.append(
            RuleTestFile(
                name=ALERTS_FILE,
                rule_files=(f"../{ALERTS_FILE}.rules.yml",),
                tests=tuple(cases),
                # Every case's step is a multiple: each is evaluated at every one of its samples.
                evaluation_interval=format_duration(math.gcd(*steps) / 1000),
            )
        )
    outage = outage_test_file(config)
    if outage is not None:
        files.append(outage)
    files.append(self_monitoring_test_file(config))
    return files


@dataclass(frozen=True, slots=True)
class Timeline:
    """Indices of a definition test, in steps: when failing turns 1, escalates, recovers."""

    fire: int  # failing turns 1: the failure_threshold-th failed run
    every: int  # steps between escalation levels
    levels: int  # how many levels, level 0 included
    success_threshold: int

    @property
    def last_failure(self) -> int:
        return self.fire + (self.levels - 1) * self.every

    @property
    def recover(self) -> int:
        """failing back at 0: success_threshold successful runs after the last failure."""
        return self.last_failure + self.success_threshold

    @property
    def length(self) -> int:
        return self.recover + 2


def step_ms(alert: Alert, *more: float) -> int:
    """Milliseconds between samples: a divisor of escalation_time (and of `more` seconds), at
    most a minute."""
    step = 60_000
    for seconds in (alert.escalation_time, *more):
        if seconds:
            step = math.gcd(step, round(seconds * 1000))
    return step


def timeline(alert: Alert, target: Target, step: int) -> Timeline:
    every = round(alert.escalation_time * 1000) // step if alert.escalation_time else 0
    return Timeline(
        fire=FIRST_FAILURE + target.failure_threshold - 1,
        every=every,
        levels=len(levels(alert)),
        success_threshold=target.success_threshold,
    )


def definition_case(config: Config, name: str) -> TestCase:
    alert, target = config.alerts[name], targets_of(config, name)[0]
    step = step_ms(alert)
    t = timeline(alert, target, step)
    # Failing all along, it proves the rule covers only its own: not one the target depends
    # on, whose failure keeps the target's alert quiet (rules/symptoms.py).
    quieting = {cause.name for cause in causes(config, target)}
    other = next((o for o in config.targets if o.alert != name and o.name not in quieting), None)
    failing = [1.0 if t.fire <= i < t.recover else 0.0 for i in range(t.length)]
    inputs = run_series(alert, target, failing, t.last_failure, REASON)
    inputs += covered_at_rest(config, name, [target], t.length)
    if other is not None:
        inputs += run_series(alert, other, [1.0] * t.length, t.length, REASON, counters=False)

    def check(i: int, firing: int) -> AlertTest:
        expected = tuple(expected_alert(name, alert, target, level) for level in range(firing))
        return AlertTest(at(i, step), c.alert_name(name), expected)

    checks = [check(t.fire - 1, 0), check(t.fire, 1)]
    for level in range(1, t.levels):
        due = t.fire + level * t.every
        checks += [check(due - 1, level), check(due, level + 1)]
    return TestCase(
        name=f"{name}: silent on a first failed run, fires, escalates and resolves",
        interval=format_duration(step / 1000),
        input_series=tuple(inputs),
        alert_rule_test=(*checks, check(t.recover, 0)),
    )


def fix_case(config: Config, name: str) -> TestCase:
    """Fixed before the first escalation: still failing (success_threshold not yet met), the
    last run a success, and no level but 0 fires, at the first level's time or after it."""
    alert, target = config.alerts[name], targets_of(config, name)[0]
    step = step_ms(alert)
    t = timeline(alert, target, step)
    due = t.fire + t.every
    fixed = max(t.fire, due - 2)  # the last failed run
    length = due + 3
    failing = [1.0 if i >= t.fire else 0.0 for i in range(length)]
    expected = (expected_alert(name, alert, target, 0),)
    return TestCase(
        name=f"{name}: fixed before its first escalation, no level but 0 fires",
        interval=format_duration(step / 1000),
        input_series=(
            *run_series(alert, target, failing, fixed, REASON),
            *covered_at_rest(config, name, [target], length),
        ),
        alert_rule_test=tuple(
            AlertTest(at(i, step), c.alert_name(name), expected) for i in (fixed, due, due + 2)
        ),
    )


def at(index: int, step: int) -> str:
    return format_duration(index * step / 1000)


def run_series(
    alert: Alert,
    target: Target,
    failing: Sequence[float],
    last_failure: int,
    reason: str,
    *,
    counters: bool = True,
) -> list[Series]:
    """What the exporter reports of a target that fails from FIRST_FAILURE to last_failure:
    failing as given (and violation with it when `reason` is a violation, for a definition
    that fires on violations), the streak of failed runs, and with `counters` the runs by
    result and the revenue."""
    labels, length = scraped_labels(target), len(failing)
    streak = [
        float(i - FIRST_FAILURE + 1) if FIRST_FAILURE <= i <= last_failure else 0.0
        for i in range(length)
    ]
    out = [
        series(c.PROBE_FAILING, labels, failing),
        series(c.PROBE_CONSECUTIVE_FAILURES, labels, streak),
    ]
    if alert.fires_on == "violation":
        violation = failing if c.is_violation(reason) else [0.0] * length
        out.append(series(c.PROBE_VIOLATION, labels, violation))
    if counters:
        failed = [failed_runs(i, last_failure) for i in range(length)]
        successes = [float(i + 1 - (failed[i] or 0)) for i in range(length)]
        out += [
            series(
                c.PROBE_RUNS + "_total", {**labels, c.LABEL_RESULT: c.RESULT_SUCCESS}, successes
            ),
            series(c.PROBE_RUNS + "_total", {**labels, c.LABEL_RESULT: reason}, failed),
        ]
        out += revenue_series([target], length)
    return out


def covered_at_rest(config: Config, name: str, busy: Sequence[Target], length: int) -> list[Series]:
    """`failing` at 0 for the other targets of definition `name` when a whole-of alert covers
    it: that alert counts the series it sees, and would take `busy` for all of them (its
    firing keeps the level-0 rule quiet, standins.py)."""
    if not any(alert.covers == name for alert in config.alerts.values()):
        return []
    names = {t.name for t in busy}
    return [
        series(c.PROBE_FAILING, scraped_labels(t), [0.0] * length)
        for t in targets_of(config, name)
        if t.name not in names
    ]


def failed_runs(i: int, last_failure: int) -> float | None:
    """The failure reason's counter: absent until the first failure, as the exporter does."""
    if i < FIRST_FAILURE:
        return None
    return float(min(i, last_failure) - FIRST_FAILURE + 1)


def revenue_series(targets: Sequence[Target], length: int) -> list[Series]:
    return [
        series(
            c.PROBE_REVENUE_AT_RISK,
            {**scraped_labels(t), c.LABEL_CURRENCY: t.revenue_at_risk.currency},
            [t.revenue_at_risk.amount] * length,
        )
        for t in targets
        if t.revenue_at_risk is not None
    ]


def revenue_text(targets: Sequence[Target]) -> str:
    """What the revenue template prints: the largest amount per currency."""
    amounts: dict[str, float] = {}
    for t in targets:
        if t.revenue_at_risk is not None:
            money = t.revenue_at_risk
            amounts[money.currency] = max(amounts.get(money.currency, 0.0), money.amount)
    return m.money_text(amounts)


def expected_alert(
    name: str, alert: Alert, target: Target, level: int, reason: str = REASON
) -> ExpectedAlert:
    fill = placeholder_values(target.static_labels(), reason, revenue_text([target]), alert)
    return ExpectedAlert(
        labels={**scraped_labels(target), **rule_labels(alert, level)},
        annotations=definition_annotations(name, alert, level, fill),
    )
