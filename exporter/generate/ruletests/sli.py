"""promtool tests of the SLI windows and error budgets, with exact expected values.

promtool compares values bit for bit. Input rates are small powers of two, which rate()
(the increase times 1/window in Prometheus 2.42) keeps exact, so sums and ratios are exact
too; a window is only checked once every 5m rate in it is steady. Error budgets divide by the
tier's budget: they are computed here with the same float operations, in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence

from exporter import conventions as c
from exporter.config import Config, Target
from exporter.generate.model import ExpectedSample, PromqlTest, Series, TestCase
from exporter.generate.rules.objectives import AVAILABILITY, LATENCY, SLOS, number
from exporter.generate.rules.slo import HOURLY, LEVELS, TENANT
from exporter.generate.ruletests.series import scraped_labels, series
from exporter.generate.ruletests.slo_series import (
    COUNT,
    FAILURE,
    RUNS_TOTAL,
    counter,
    level_ratios,
    probe_series,
    prom_rate,
    sample,
    seconds,
    steps,
    tier_le,
)

# Runs, successful runs and runs within the latency bound per second, for the sampled targets
# in turn. Powers of two: rate() is exact for them (14 per second comes out
# 14.000000000000002). An average of ratios would show at the service level.
RATES = ((4.0, 4.0, 2.0), (16.0, 8.0, 4.0), (8.0, 4.0, 8.0))


def levels_case(config: Config, targets: Sequence[Target], step: str, at: str) -> TestCase:
    """Steady runs from the start, checked at the first evaluation after 0 (`at`): every level
    and window is good runs / all runs, summed before dividing."""
    n, per_step = steps(at, step), seconds(step)
    labels = [scraped_labels(t) for t in targets][: len(RATES)]
    rates = RATES[: len(labels)]
    inputs: list[Series] = []
    for target_labels, (runs, success, within) in zip(labels, rates, strict=True):
        le = tier_le(config, target_labels)
        histogram = None if le is None else (le, [(runs - within) * per_step] * n)
        inputs += probe_series(
            target_labels, [runs * per_step] * n, [(runs - success) * per_step] * n, histogram
        )
    availability = level_ratios(labels, [r[1] for r in rates], [r[0] for r in rates])
    tests = [
        _expect(c.AVAILABILITY.format(level=level.name, window=w), availability[level.name], at)
        for w in c.SLO_WINDOWS
        for level in LEVELS
        if availability[level.name]
    ]
    timed = [(lab, r) for lab, r in zip(labels, rates, strict=True) if tier_le(config, lab)]
    if timed:
        latency = level_ratios(
            [t[0] for t in timed], [t[1][2] for t in timed], [t[1][0] for t in timed]
        )
        tests += [
            _expect(c.WITHIN_LATENCY.format(window=w), latency[TENANT.name], at)
            for w in c.SLO_WINDOWS
        ]
    return TestCase(
        "availability and latency SLIs are good runs over all runs, summed before dividing, "
        "at every level and window",
        tuple(inputs),
        promql_expr_test=tuple(tests),
        interval=step,
    )


def _expect(record: str, series: dict[str, tuple[dict[str, str], float]], at: str) -> PromqlTest:
    return PromqlTest(record, at, tuple(sample(record, lab, v) for lab, v in series.values()))


def budget_case(config: Config, targets: Sequence[Target], step: str, at: str) -> TestCase:
    """One bad run in 2^k, just under half the budget: about half of it remains."""
    n, per_step = steps(at, step), seconds(step)
    inputs: list[Series] = []
    expected: dict[str, list[ExpectedSample]] = {s.name: [] for s in SLOS}
    for target in targets:
        tier = config.tiers[target.tier]
        shares = {s.name: _half_budget_share(float(s.budget(tier))) for s in SLOS}
        runs = 1 / min(shares.values())  # a power of two: every bad share is a whole rate
        labels = scraped_labels(target)
        le = tier_le(config, labels)
        assert le is not None
        bad = {name: runs * share * per_step for name, share in shares.items()}
        inputs += probe_series(
            labels,
            [runs * per_step] * n,
            [bad[AVAILABILITY.name]] * n,
            (le, [bad[LATENCY.name]] * n),
        )
        key = {c.LABEL_TENANT: target.tenant, c.LABEL_TIER: target.tier}
        for slo in SLOS:
            good = prom_rate(runs * per_step - bad[slo.name], step)
            # All runs: the sum of each result's rate, or the histogram count's own rate.
            total = (
                good + prom_rate(bad[slo.name], step)
                if slo is AVAILABILITY
                else prom_rate(runs * per_step, step)
            )
            remaining = 1 - (1 - good / total) / float(number(slo.budget(tier)))
            record = c.BUDGET_REMAINING.format(slo=slo.name)
            expected[slo.name].append(sample(record, key, remaining))
    return TestCase(
        f"error budget remaining over {c.SLO_PERIOD} is 1 - bad share / the tier's budget",
        tuple(inputs),
        promql_expr_test=tuple(
            PromqlTest(c.BUDGET_REMAINING.format(slo=s.name), at, tuple(expected[s.name]))
            for s in SLOS
        ),
        interval=step,
    )


def _half_budget_share(budget: float) -> float:
    """The largest 2^-k not above half the budget."""
    share = 1.0
    while share > budget / 2:
        share /= 2
    return share


def windows_case(
    target: Target, windows: Sequence[str], step: str, evaluation: str, start: str
) -> TestCase:
    """One run a second, all successful, then half failing from `start` on. When a window's
    span has just passed since the change it still holds the last healthy 5m rate (above 0.5);
    one evaluation later it holds only rates from after the change: exactly 0.5. Too short or
    too long shows. The hourly success rate the day windows average is checked the same way."""
    labels = scraped_labels(target)
    level = TENANT if target.tenant else LEVELS[0]
    key = {k: labels[k] for k in level.by if k in labels} if level.by else labels
    settle = max(seconds(evaluation), seconds(c.SLO_WINDOWS[0]))
    changed = seconds(start)
    n, per_step = (changed + seconds(windows[-1]) + settle) // seconds(step), seconds(step)
    failures = [0.0 if i < steps(start, step) else per_step / 2 for i in range(n)]
    records = [(c.AVAILABILITY.format(level=level.name, window=w), w) for w in windows]
    if HOURLY in windows:
        records.append((c.SUCCESS_RATE.format(level=level.name, window=HOURLY), HOURLY))
    tests: list[PromqlTest] = []
    for record, window in records:
        filling, full = changed + seconds(window), changed + seconds(window) + settle
        tests.append(
            PromqlTest(f"{record} > bool 0.5", f"{filling // 60}m", (sample("", key, 1.0),))
        )
        tests.append(PromqlTest(record, f"{full // 60}m", (sample(record, key, 0.5),)))
    return TestCase(
        f"availability windows {', '.join(windows)} each hold exactly their own span",
        tuple(probe_series(labels, [float(per_step)] * n, failures)),
        promql_expr_test=tuple(tests),
        interval=step,
    )


def first_failure_case(target: Target, step: str, evaluation: str) -> TestCase:
    """A failure reason's series first appears at 1, with its first failed run, so rate() sees
    no increase in it; the run rate reads the duration histogram's count, there at 0 from the
    first scrape, so that one run still counts against availability. The failed run shows at
    the first evaluation after 0, where it is checked."""
    labels = scraped_labels(target)
    per_step, shown_at = float(seconds(step)), steps(evaluation, step)
    runs = [per_step] * (shown_at + 1)
    success = [per_step - 1 if i == shown_at - 1 else per_step for i in range(len(runs))]
    failed = [None] * shown_at + [1.0] * (len(runs) + 1 - shown_at)
    inputs = [
        series(RUNS_TOTAL, {**labels, c.LABEL_RESULT: c.RESULT_SUCCESS}, counter(success)),
        series(RUNS_TOTAL, {**labels, c.LABEL_RESULT: FAILURE}, failed),
        series(COUNT, labels, counter(runs)),
    ]
    record = c.AVAILABILITY.format(level=LEVELS[0].name, window=c.SLO_WINDOWS[0])
    test = PromqlTest(f"{record} < bool 1", evaluation, (sample("", labels, 1.0),))
    return TestCase(
        "a failure reason's first failed run counts against availability",
        tuple(inputs),
        promql_expr_test=(test,),
        interval=step,
    )
