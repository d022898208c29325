"""promtool tests of the predictive alerts (rules/predict.py), for the first tenant of every tier.

Budget exhaustion: from the start, the tenant burns both SLOs at 0.6x their budget rate, a copy
(`_slower`) at 0.3x and another (`_overspent`) at 1.5x. After 26 hours (of a 31-day January:
promtool's clock starts at 1970-01-01) the tenant has 40% of each budget left and would spend
0.6 x 29.9 / 30 of a budget by the month's end: the alert fires. The slower copy would spend
0.3 of the 70% it has left; the overspent one has nothing left to predict.

Latency trend: the tenant's objective quantile rises in a straight line, read from runs that
move from the tier's bound's bucket above it: it is under the bound at the check, and reaches
as far above it one horizon later. A copy (`_steady`) stays just under the bound.
"""

from __future__ import annotations

import math

from exporter import conventions as c
from exporter.config import Config, Target, Tier
from exporter.generate.model import AlertTest, ExpectedAlert, RuleTestFile, Series, TestCase
from exporter.generate.rules.objectives import LATENCY, SLOS, le_bound, le_label
from exporter.generate.rules.predict import (
    EXHAUSTION_SEVERITY,
    TREND_SEVERITY,
    exhaustion_annotations,
    exhaustion_name,
    labels,
    lookback,
    trend_annotations,
)
from exporter.generate.rules.slo import GROUP_ORDER, RULE_FILE
from exporter.generate.ruletests.series import scraped_labels, series
from exporter.generate.ruletests.slo_series import (
    BUCKET,
    COUNT,
    counter,
    probe_series,
    sample_targets,
)

FILE = "predict"
EVALUATION = 300  # seconds
RUNS = 1_000_000  # per 5m step: fine enough for shares of a 0.1% budget
BURNERS = (("", 0.6), ("_slower", 0.3), ("_overspent", 1.5))
CHECK_HOURS = 26


def predict_test_file(config: Config) -> RuleTestFile | None:
    targets = [t for t in sample_targets(config) if t.tier in config.tiers and t.tenant]
    if not targets:
        return None
    return RuleTestFile(
        FILE,
        (f"../{RULE_FILE}.rules.yml",),
        (_exhaustion_case(config, targets), _trend_case(config, targets)),
        f"{EVALUATION // 60}m",
        GROUP_ORDER,
    )


def _suffixed(target: Target, suffix: str) -> dict[str, str]:
    out = scraped_labels(target)
    return {**out, c.LABEL_TENANT: target.tenant + suffix, c.LABEL_PROBE: target.name + suffix}


def _exhaustion_case(config: Config, targets: list[Target]) -> TestCase:
    steps = CHECK_HOURS * 3600 // EVALUATION
    inputs: list[Series] = []
    firing: dict[str, list[ExpectedAlert]] = {}
    for target in targets:
        tier = config.tiers[target.tier]
        for suffix, times in BURNERS:
            shares = {s.name: min(times * float(s.budget(tier)), 0.5) for s in SLOS}
            bad = {name: float(math.floor(RUNS * share)) for name, share in shares.items()}
            le = le_label(le_bound(tier.latency))
            inputs += probe_series(
                _suffixed(target, suffix),
                [float(RUNS)] * steps,
                [bad[c.SLO_AVAILABILITY]] * steps,
                (le, [bad[c.SLO_LATENCY]] * steps),
            )
            if suffix == "":
                for slo in SLOS:
                    firing.setdefault(exhaustion_name(slo), []).append(
                        _expected_exhaustion(slo.name, target, tier)
                    )
    return TestCase(
        "a budget that the last day's burn spends before the month ends: not at half that "
        "burn, not once it is overspent",
        tuple(inputs),
        alert_rule_test=tuple(
            AlertTest(f"{CHECK_HOURS}h", name, tuple(expected))
            for name, expected in sorted(firing.items())
        ),
        interval=f"{EVALUATION // 60}m",
    )


def _expected_exhaustion(slo_name: str, target: Target, tier: Tier) -> ExpectedAlert:
    slo = next(s for s in SLOS if s.name == slo_name)
    tags = {**labels(EXHAUSTION_SEVERITY, slo.name), c.LABEL_TIER: target.tier}
    tags[c.LABEL_TENANT] = target.tenant
    notes = exhaustion_annotations(slo, target.tier, tier, target.tenant)
    return ExpectedAlert(tags, notes)


def _trend_case(config: Config, targets: list[Target]) -> TestCase:
    tiers = [config.tiers[t.tier] for t in targets]
    back = max(_seconds(lookback(tier)) for tier in tiers)
    check = math.ceil((back + EVALUATION) / EVALUATION) * EVALUATION
    steps = check // EVALUATION + 2
    inputs: list[Series] = []
    expected = []
    for target, tier in zip(targets, tiers, strict=True):
        horizon, q = tier.latency_horizon, float(LATENCY.objective(tier))
        # Far enough under the bound to see, near enough that the oldest sample of the line
        # still has its quantile in the bound's bucket (at least q of the way up).
        gap = min(0.003, 0.8 * (1 - q) / (1 + 2 * check / horizon))
        slope = 2 * gap / horizon  # per second, in units of the bucket's width
        rising = [1 - gap - slope * (check - i * EVALUATION) for i in range(steps)]
        inputs += _quantile_series(tier, _suffixed(target, ""), rising)
        inputs += _quantile_series(tier, _suffixed(target, "_steady"), [1 - gap] * steps)
        tags = {**labels(TREND_SEVERITY, LATENCY.name), c.LABEL_TIER: target.tier}
        tags[c.LABEL_TENANT] = target.tenant
        expected.append(ExpectedAlert(tags, trend_annotations(target.tier, tier, target.tenant)))
    return TestCase(
        "a latency quantile heading above the tier's bound within the horizon; not a steady one",
        tuple(inputs),
        alert_rule_test=(
            AlertTest(f"{(check - 2 * EVALUATION) // 60}m", c.ALERT_LATENCY_TREND),
            AlertTest(f"{check // 60}m", c.ALERT_LATENCY_TREND, tuple(expected)),
        ),
        interval=f"{EVALUATION // 60}m",
    )


def _seconds(duration: str) -> int:
    from exporter.config import parse_duration

    return int(parse_duration(duration))


def _quantile_series(tier: Tier, target_labels: dict[str, str], units: list[float]) -> list[Series]:
    """Buckets whose quantile at the tier's latency_objective is `units` of the way from the
    bound below the tier's bucket to it (1.0: at the bound), one value per step: no run at or
    under the lower bound, and the share above the bound that puts the quantile there."""
    q = float(LATENCY.objective(tier))
    bound = le_bound(tier.latency)
    lower = max((b for b in c.DURATION_BUCKETS if b < bound), default=None)
    within = [float(round(RUNS * min(1.0, q / u))) for u in units]
    out = [
        series(BUCKET, {**target_labels, "le": le_label(bound)}, counter(within[1:])),
        series(BUCKET, {**target_labels, "le": "+Inf"}, counter([float(RUNS)] * (len(units) - 1))),
        series(COUNT, target_labels, counter([float(RUNS)] * (len(units) - 1))),
    ]
    if lower is not None:
        zero = [0.0] * (len(units) - 1)
        out.append(series(BUCKET, {**target_labels, "le": le_label(lower)}, counter(zero)))
    return out
