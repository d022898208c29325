"""promtool tests of the alerting rules, generated from the same config as the rules.

Each alert definition is tested on its first target, the way the exporter would report it:
a first failed run that leaves `business_probe_failing` at 0 (silence), failing at 1 (the
alert, with every label and annotation), each escalation level one step before its time
(not yet) and at it, then recovery (silence). Another target failing all along proves the
rule covers only its own targets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from exporter import conventions as c
from exporter.config import Alert, Config, Target, format_duration
from exporter.generate import messages as m
from exporter.generate.alerts import (
    ALERTS_FILE,
    definition_annotations,
    levels,
    placeholder_values,
    rule_labels,
    targets_of,
)
from exporter.generate.model import AlertTest, ExpectedAlert, RuleTestFile, Series, TestCase
from exporter.generate.other_tests import outage_test_file, self_monitoring_test_file
from exporter.generate.series import scraped_labels, series

# The failure the tests simulate: a route that answers 404, as in the seeds' outage.
REASON = c.REASON_UNEXPECTED_STATUS
FIRST_FAILURE = 2  # two successful runs first


def alert_test_files(config: Config) -> list[RuleTestFile]:
    """rules/tests/alerts, outage and self-monitoring, as alert_rule_files has them."""
    names = [name for name in config.alerts if targets_of(config, name)]
    files = []
    if names:
        steps = [_step(config.alerts[name]) for name in names]
        files.append(
            RuleTestFile(
                name=ALERTS_FILE,
                rule_files=(f"../{ALERTS_FILE}.rules.yml",),
                tests=tuple(definition_case(config, name) for name in names),
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
class _Timeline:
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


def _step(alert: Alert) -> int:
    """Milliseconds between samples: a divisor of escalation_time, at most a minute."""
    if alert.escalation_time is None:
        return 60_000
    return math.gcd(round(alert.escalation_time * 1000), 60_000)


def definition_case(config: Config, name: str) -> TestCase:
    alert, target = config.alerts[name], targets_of(config, name)[0]
    step = _step(alert)
    every = round(alert.escalation_time * 1000) // step if alert.escalation_time else 0
    timeline = _Timeline(
        fire=FIRST_FAILURE + target.failure_threshold - 1,
        every=every,
        levels=len(levels(alert)),
        success_threshold=target.success_threshold,
    )
    other = next((t for t in config.targets if t.alert != name), None)
    return TestCase(
        name=f"{name}: silent on a first failed run, fires, escalates and resolves",
        interval=format_duration(step / 1000),
        input_series=_definition_series(target, other, timeline),
        alert_rule_test=_definition_checks(name, alert, target, timeline, step),
    )


def _definition_series(target: Target, other: Target | None, t: _Timeline) -> tuple[Series, ...]:
    labels = scraped_labels(target)
    failing = [1.0 if t.fire <= i < t.recover else 0.0 for i in range(t.length)]
    failed_runs = [_failed_runs(i, t) for i in range(t.length)]
    successes = [float(i + 1 - (failed_runs[i] or 0)) for i in range(t.length)]
    out = [
        series(c.PROBE_FAILING, labels, failing),
        series(c.PROBE_RUNS + "_total", {**labels, c.LABEL_RESULT: c.RESULT_SUCCESS}, successes),
        series(c.PROBE_RUNS + "_total", {**labels, c.LABEL_RESULT: REASON}, failed_runs),
    ]
    money = target.revenue_at_risk
    if money is not None:
        revenue_labels = {**labels, c.LABEL_CURRENCY: money.currency}
        out.append(series(c.PROBE_REVENUE_AT_RISK, revenue_labels, [money.amount] * t.length))
    if other is not None:
        out.append(series(c.PROBE_FAILING, scraped_labels(other), [1.0] * t.length))
    return tuple(out)


def _failed_runs(i: int, t: _Timeline) -> float | None:
    """The failure reason's counter: absent until the first failure, as the exporter does."""
    if i < FIRST_FAILURE:
        return None
    return float(min(i, t.last_failure) - FIRST_FAILURE + 1)


def _definition_checks(
    name: str, alert: Alert, target: Target, t: _Timeline, step: int
) -> tuple[AlertTest, ...]:
    def check(i: int, firing: int) -> AlertTest:
        at = format_duration(i * step / 1000)
        expected = tuple(_expected(name, alert, target, level) for level in range(firing))
        return AlertTest(at, c.alert_name(name), expected)

    checks = [check(t.fire - 1, 0), check(t.fire, 1)]
    for level in range(1, t.levels):
        due = t.fire + level * t.every
        checks += [check(due - 1, level), check(due, level + 1)]
    return (*checks, check(t.recover, 0))


def _expected(name: str, alert: Alert, target: Target, level: int) -> ExpectedAlert:
    money = target.revenue_at_risk
    revenue = m.money_text({money.currency: money.amount} if money else {})
    fill = placeholder_values(target.static_labels(), REASON, revenue, alert)
    return ExpectedAlert(
        labels={**scraped_labels(target), **rule_labels(alert, level)},
        annotations=definition_annotations(name, alert, level, fill),
    )
