"""promtool tests of the burn-rate alerts: each window pair fires above its factor, not below.

One test case per window pair. For every tier, after a healthy history as long as the alert's
longest window, its first tenant burns both SLOs at 1.1x the pair's threshold, a copy of it
(tenant and probe suffixed `_twice`) at 2x and another (`_below`) at 0.9x, all capped below
100% bad runs. The alert must stay silent while only the short window is full, fire for the
two tenants above once the long window is, never fire for the one below, and resolve once the
short window is clean again after the burn stops (at 2x the long window is still above then:
only the short window can have reset it). A tier whose threshold is 100% or more cannot burn
that fast and is left out of that pair's case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from exporter import conventions as c
from exporter.config import Config, Target, Tier
from exporter.generate.model import AlertTest, ExpectedAlert, Series, TestCase
from exporter.generate.rules.burn import BURNS, Burn, alert_annotations, alert_labels, alert_name
from exporter.generate.rules.objectives import SLOS, Slo, number
from exporter.generate.ruletests.series import scraped_labels
from exporter.generate.ruletests.slo_series import probe_series, sample_targets, seconds, tier_le

RUNS_PER_SECOND = 10_000  # fine enough for a 0.1% budget at 0.9x
# Tenant suffix and burn as a multiple of the threshold; the first two must fire.
BURNERS = (("", 1.1), ("_twice", 2.0), ("_below", 0.9))


@dataclass(frozen=True, slots=True)
class Timing:
    """Input step and evaluation interval of the page and the ticket cases."""

    step: str
    evaluation: str


PAGE_TIMING = Timing("1m", "10m")
TICKET_TIMING = Timing("5m", "2h")


def burn_cases(config: Config, page: bool) -> list[TestCase]:
    """The cases of the page or the ticket alerts, one per window pair."""
    targets = [t for t in sample_targets(config) if t.tier in config.tiers and t.tenant]
    timing = PAGE_TIMING if page else TICKET_TIMING
    cases = [_case(config, targets, burn, timing) for burn in BURNS if burn.page == page]
    return [case for case in cases if case is not None]


def _case(config: Config, targets: list[Target], burn: Burn, timing: Timing) -> TestCase | None:
    evaluation = seconds(timing.evaluation)
    pairs = [b for b in BURNS if b.page == burn.page]
    start = max(seconds(b.long) for b in pairs)  # a shorter history would not dilute them
    quiet = start + _align(seconds(burn.short), evaluation) + evaluation
    fire = start + _align(seconds(burn.long), evaluation) + evaluation
    reset = fire + _align(_reset_wait(burn, pairs, evaluation), evaluation) + evaluation
    inputs: list[Series] = []
    firing: dict[str, list[ExpectedAlert]] = {}
    for target in targets:
        tier = config.tiers[target.tier]
        thresholds = {s.name: burn.threshold(s.budget(tier)) for s in SLOS}
        if max(thresholds.values()) >= 1:
            continue
        for suffix, times in BURNERS:
            shares = {name: _share(times, t) for name, t in thresholds.items()}
            labels = _labels(target, suffix)
            inputs += _series(config, labels, shares, timing.step, (start, fire, reset))
            if times > 1:
                for slo in SLOS:
                    expected = _expected(slo, target.tenant + suffix, target.tier, tier, burn.page)
                    firing.setdefault(alert_name(slo, burn.page), []).append(expected)
    if not inputs:
        return None
    return TestCase(
        f"{number(burn.factor)}x over {burn.long} and {burn.short} "
        f"{'pages' if burn.page else 'opens a ticket'}: not below, not with only the short "
        f"window full, not once it is clean again",
        tuple(inputs),
        alert_rule_test=tuple(
            AlertTest(f"{t // 60}m", name, tuple(expected) if t == fire else ())
            for name, expected in sorted(firing.items())
            for t in (quiet, fire, reset)
        ),
        interval=timing.step,
    )


def _align(secs: int, evaluation: int) -> int:
    return math.ceil(secs / evaluation) * evaluation


def _reset_wait(burn: Burn, pairs: list[Burn], evaluation: int) -> int:
    """How long after the burn every short window that may fire is clean: this pair's, and
    that of a pair with a lower factor whose long window a 2x burn this long would fill
    above its factor (1x over 3d after 3x over 1d)."""
    lasted = seconds(burn.long) + evaluation
    filled = [
        b
        for b in pairs
        if b is burn or 2 * float(burn.factor) * min(1, lasted / seconds(b.long)) > b.factor
    ]
    return max(seconds(b.short) for b in filled)


def _share(times: float, threshold: float) -> float:
    """A bad-run share `times` the threshold, in whole runs, capped below 100%."""
    share = min(times * threshold, (1 + threshold) / 2)
    share = math.floor(share * RUNS_PER_SECOND) / RUNS_PER_SECOND
    assert (share > threshold) == (times > 1), (times, threshold)
    return share


def _labels(target: Target, suffix: str) -> dict[str, str]:
    labels = scraped_labels(target)
    return {**labels, c.LABEL_TENANT: target.tenant + suffix, c.LABEL_PROBE: target.name + suffix}


def _series(
    config: Config,
    labels: dict[str, str],
    shares: dict[str, float],
    step: str,
    times: tuple[int, int, int],
) -> list[Series]:
    """Healthy runs, bad ones from start to stop, healthy again up to the end."""
    start, stop, end = times
    per_step = seconds(step)
    runs = RUNS_PER_SECOND * per_step
    steps = [per_step * (i + 1) for i in range(end // per_step)]
    bad = {
        name: [float(round(runs * share)) if start < t <= stop else 0.0 for t in steps]
        for name, share in shares.items()
    }
    le = tier_le(config, labels)
    assert le is not None
    return probe_series(
        labels,
        [float(runs)] * len(steps),
        bad[c.SLO_AVAILABILITY],
        (le, bad[c.SLO_LATENCY]),
    )


def _expected(slo: Slo, tenant: str, tier_name: str, tier: Tier, page: bool) -> ExpectedAlert:
    labels = {**alert_labels(slo, page), c.LABEL_TENANT: tenant, c.LABEL_TIER: tier_name}
    return ExpectedAlert(labels, alert_annotations(slo, tier_name, tier, page, tenant))
