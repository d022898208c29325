"""promtool tests of a whole-of definition: silent while fewer than its quorum fail.

On the covered targets of the first tenant: one fails (one router dropped), then all but one
of the quorum: the whole-of alert stays silent; the last one of the quorum fails: it fires,
with every label and annotation, escalates level by level, and resolves when one recovers.
"""

from __future__ import annotations

from exporter import conventions as c
from exporter.config import Config, Target, format_duration
from exporter.generate.model import AlertTest, ExpectedAlert, Series, TestCase
from exporter.generate.rules.definition import levels, members, rule_labels
from exporter.generate.rules.whole import whole_annotations, whole_values
from exporter.generate.ruletests.alerts import REASON, at, revenue_series, revenue_text, step_ms
from exporter.generate.ruletests.series import scraped_labels, series

FIRE = 3  # the index at which the quorum is reached


def whole_case(config: Config, name: str) -> TestCase:
    alert = config.alerts[name]
    tenant = members(config, name)[0].tenant
    group = [t for t in members(config, name) if t.tenant == tenant]
    needed = (len(group) * alert.quorum + 99) // 100
    step = step_ms(alert)
    every = round(alert.escalation_time * 1000) // step if alert.escalation_time else 0
    count = len(levels(alert))
    recover = FIRE + (count - 1) * every + 1
    length = recover + 2
    starts = [_fails_from(k, needed) for k in range(len(group))]
    inputs = [
        s
        for k, target in enumerate(group)
        for s in _member(target, starts[k], recover if k == 0 else length, length)
    ]
    inputs += revenue_series(group, length)
    fill = whole_values(
        alert, tenant=tenant, failing=str(needed), reason=REASON, revenue=revenue_text(group)
    )

    def check(i: int, firing: int) -> AlertTest:
        expected = tuple(
            ExpectedAlert(
                labels={c.LABEL_TENANT: tenant, **rule_labels(alert, level)},
                annotations=whole_annotations(name, alert, level, fill),
            )
            for level in range(firing)
        )
        return AlertTest(at(i, step), c.alert_name(name), expected)

    checks = [check(1, 0), check(2, 0), check(FIRE, 1)]
    for level in range(1, count):
        due = FIRE + level * every
        checks += [check(due - 1, level), check(due, level + 1)]
    return TestCase(
        name=(
            f"{name}: silent while fewer than {needed} of the {len(group)} targets of "
            f"{alert.covers} fail, fires when {needed} do, escalates and resolves"
        ),
        interval=format_duration(step / 1000),
        input_series=tuple(inputs),
        alert_rule_test=(*checks, check(recover, 0)),
    )


def whole_fix_case(config: Config, name: str) -> TestCase:
    """All of the quorum fail; one is fixed (its last run a success, still failing) one step
    before the first escalation: level 1 never fires, level 0 still does."""
    alert = config.alerts[name]
    tenant = members(config, name)[0].tenant
    group = [t for t in members(config, name) if t.tenant == tenant]
    needed = (len(group) * alert.quorum + 99) // 100
    step = step_ms(alert)
    every = round((alert.escalation_time or 0) * 1000) // step
    due = FIRE + every
    fixed = max(FIRE + 1, due - 1)  # the first successful run of the first target
    length = due + 3
    inputs = [
        s
        for k, target in enumerate(group)
        for s in _member(
            target, FIRE if k < needed else None, length, length, fixed if k == 0 else None
        )
    ]
    inputs += revenue_series(group, length)
    fill = whole_values(
        alert, tenant=tenant, failing=str(needed), reason=REASON, revenue=revenue_text(group)
    )
    level_0 = ExpectedAlert(
        labels={c.LABEL_TENANT: tenant, **rule_labels(alert, 0)},
        annotations=whole_annotations(name, alert, 0, fill),
    )
    return TestCase(
        name=f"{name}: fixed before its first escalation, no level but 0 fires",
        interval=format_duration(step / 1000),
        input_series=tuple(inputs),
        alert_rule_test=tuple(
            AlertTest(at(i, step), c.alert_name(name), (level_0,)) for i in (fixed, due, due + 2)
        ),
    )


def _fails_from(k: int, needed: int) -> int | None:
    """The first one alone, then the quorum but one, then all of the quorum; the rest never."""
    if k >= needed:
        return None
    if k == needed - 1:
        return FIRE
    return 1 if k == 0 else 2


def _member(
    target: Target, start: int | None, end: int, length: int, fixed: int | None = None
) -> list[Series]:
    """A covered target failing from `start` (never when None) until `end`; from `fixed` on
    its runs succeed, though it is still failing (success_threshold not yet met)."""
    labels = scraped_labels(target)
    down = [start is not None and start <= i < end for i in range(length)]
    streak, failed, ok = [], [], []
    for i in range(length):
        running = down[i] and start is not None and (fixed is None or i < fixed)
        streak.append(float(i - start + 1) if running and start is not None else 0.0)
        failed.append(float(sum(down[: i + 1])) if start is not None and i >= start else None)
        ok.append(float(i + 1 - sum(down[: i + 1])))
    runs = c.PROBE_RUNS + "_total"
    out = [
        series(c.PROBE_FAILING, labels, [float(d) for d in down]),
        series(c.PROBE_CONSECUTIVE_FAILURES, labels, streak),
        series(runs, {**labels, c.LABEL_RESULT: c.RESULT_SUCCESS}, ok),
    ]
    if start is not None:
        out.append(series(runs, {**labels, c.LABEL_RESULT: REASON}, failed))
    return out
