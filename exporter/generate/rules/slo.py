"""SLO recording rules: availability and latency SLIs, tier objectives, error budgets.

Windows are built from short recordings so 30-day figures stay cheap. Every 5m rate of a
target's successful and total runs is recorded (the only rules reading the raw counters) and
summed by service, tenant and tier; a window is the ratio of the averages of those rates
over it: a ratio of sums, weighted by runs, never an average of ratios. Windows up to 6h average
the 5m rates. The day-long ones average hourly rates (themselves averages of the 5m ones) in a
group evaluated every 3m, as kube-prometheus does for its 30d apiserver availability: a 30d
window then reads 14,400 samples a series instead of 172,800 at a 15s evaluation, twelve times
less often; 3m stays under the 5m lookback of the rules and dashboards that read them.

The latency SLI is the share of runs within the tier's latency, read from the duration
histogram's bucket at that bound (objectives.le_bound). Burn-rate alerts live in rules/burn.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from exporter import conventions as c
from exporter.config import Config
from exporter.generate.model import RecordingRule, RuleFile, RuleGroup
from exporter.generate.rules.burn import burn_group
from exporter.generate.rules.maintenance import leave_out
from exporter.generate.rules.objectives import (
    AVAILABILITY,
    LATENCY,
    SLOS,
    le_bound,
    le_label,
    number,
    ratio,
    tier_selector,
)
from exporter.generate.rules.predict import predict_group
from exporter.generate.rules.revenue import revenue_group

SHORT = c.SLO_WINDOWS[0]
HOURLY = "1h"
HOUR_WINDOWS = c.SLO_WINDOWS[1:5]  # 30m..6h, from the 5m rates
DAY_WINDOWS = c.SLO_WINDOWS[5:]  # 1d, 3d, 30d, from the hourly rates
DAYS_INTERVAL = "3m"
RULE_FILE = "slo"
REVENUE_RULE_FILE = "revenue"


@dataclass(frozen=True, slots=True)
class Level:
    """An aggregation level: what its series are summed by, and which series take part."""

    name: str
    by: tuple[str, ...]  # empty: the probe level, every label but `result`
    matcher: str = ""  # series without a tenant have no tenant SLO, nor a tier one

    @property
    def selector(self) -> str:
        return f"{{{self.matcher}}}" if self.matcher else ""


_PROBE, _SERVICE, _TENANT, _TIER = c.SLO_LEVELS
PROBE = Level(_PROBE, ())
TENANT = Level(_TENANT, (c.LABEL_TENANT, c.LABEL_TIER), f'{c.LABEL_TENANT}!=""')
LEVELS = (
    PROBE,
    Level(_SERVICE, (c.LABEL_SERVICE,)),
    TENANT,
    Level(_TIER, (c.LABEL_TIER,), f'{c.LABEL_TIER}!=""'),
)
TENANT_BY = ", ".join(TENANT.by)


@dataclass(frozen=True, slots=True)
class Ratio:
    """An SLI: its ratio record and the good and total rates it divides, as templates."""

    record: str
    good: str
    total: str
    levels: tuple[Level, ...]


AVAILABILITY_RATIO = Ratio(c.AVAILABILITY, c.SUCCESS_RATE, c.RUNS_RATE, LEVELS)
# Per tenant only: the bound it reads is the tenant's tier's.
LATENCY_RATIO = Ratio(c.WITHIN_LATENCY, c.WITHIN_LATENCY_RATE, c.DURATION_COUNT_RATE, (TENANT,))

# Groups in the order a rule reads another's output: producers first.
GROUP_ORDER = (
    c.GROUP_SLO_OBJECTIVES,
    c.GROUP_SLO_SLI,
    c.GROUP_SLO_WINDOWS,
    c.GROUP_SLO_DAYS,
    c.GROUP_SLO_BUDGET,
    c.GROUP_SLO_ALERTS,
    c.GROUP_SLO_PREDICTIONS,
)


def slo_rule_files(config: Config) -> list[RuleFile]:
    """rules/revenue.rules.yml and rules/slo.rules.yml for a config."""
    ratios = (AVAILABILITY_RATIO, LATENCY_RATIO) if config.tiers else (AVAILABILITY_RATIO,)
    groups = (
        RuleGroup(c.GROUP_SLO_OBJECTIVES, _objectives(config)),
        RuleGroup(c.GROUP_SLO_SLI, _short_window(config)),
        RuleGroup(c.GROUP_SLO_WINDOWS, _windows(ratios, HOUR_WINDOWS)),
        RuleGroup(c.GROUP_SLO_DAYS, _days(ratios), DAYS_INTERVAL),
        RuleGroup(c.GROUP_SLO_BUDGET, _budgets(config), DAYS_INTERVAL),
        burn_group(config),
        predict_group(config),
    )
    return [
        RuleFile(REVENUE_RULE_FILE, (revenue_group(),)),
        RuleFile(RULE_FILE, tuple(g for g in groups if g.rules)),
    ]


def _objectives(config: Config) -> tuple[RecordingRule, ...]:
    """Each tier's targets as constants, for dashboards and the budget rules."""
    rules = []
    for name, tier in config.tiers.items():
        labels = {c.LABEL_TIER: name}
        for record, value in (
            (c.OBJECTIVE_AVAILABILITY, number(AVAILABILITY.objective(tier))),
            (c.OBJECTIVE_LATENCY, number(LATENCY.objective(tier))),
            (c.OBJECTIVE_LATENCY_SECONDS, repr(tier.latency)),
            (c.OBJECTIVE_ERROR_RATE, number(ratio(tier.error_rate))),
        ):
            rules.append(RecordingRule(record, f"vector({value})", labels))
    return tuple(rules)


def _short_window(config: Config) -> tuple[RecordingRule, ...]:
    success = f'{c.PROBE_RUNS}_total{{{c.LABEL_RESULT}="{c.RESULT_SUCCESS}"}}'
    rules = [
        # All runs from the duration histogram's count, not the sum of the result series: a
        # failure reason's series first appears at 1, and rate() sees no increase in it, while
        # the count is there at 0 from a target's first scrape (generated case: first failure).
        _probe_rate(config, c.RUNS_RATE, f"{c.PROBE_DURATION}_count"),
        _probe_rate(config, c.SUCCESS_RATE, success),
        *(_level_sum(template, level) for level in LEVELS[1:] for template in _RATES),
        *(_ratio(AVAILABILITY_RATIO, level, SHORT) for level in LEVELS),
        RecordingRule(
            c.DURATION_P95.format(level=PROBE.name),
            f"histogram_quantile(0.95, rate({c.PROBE_DURATION}_bucket[{SHORT}]))",
        ),
        RecordingRule(
            c.DURATION_P95.format(level=TENANT.name),
            f"histogram_quantile(0.95, sum by ({TENANT_BY}, le) "
            f"({_rate(config, f'{c.PROBE_DURATION}_bucket{TENANT.selector}')}))",
        ),
    ]
    if config.tiers:
        rules += _latency_short(config)
    return tuple(rules)


_RATES = (c.RUNS_RATE, c.SUCCESS_RATE)


def _probe_rate(config: Config, template: str, selector: str) -> RecordingRule:
    return RecordingRule(
        template.format(level=PROBE.name, window=SHORT),
        f"sum without ({c.LABEL_RESULT}) ({_rate(config, selector)})",
    )


def _rate(config: Config, selector: str) -> str:
    """The 5m rate of raw series, runs inside maintenance windows left out."""
    return leave_out(config, f"rate({selector}[{SHORT}])")


def _level_sum(template: str, level: Level) -> RecordingRule:
    probe = template.format(level=PROBE.name, window=SHORT)
    return RecordingRule(
        template.format(level=level.name, window=SHORT),
        f"sum by ({', '.join(level.by)}) ({probe}{level.selector})",
    )


def _latency_short(config: Config) -> list[RecordingRule]:
    """Runs within the tier's latency, per tenant: one rule per tier, since bounds differ."""
    rules = [_within_rate(config, name, tier.latency) for name, tier in config.tiers.items()]
    count = f"{c.PROBE_DURATION}_count{TENANT.selector}"
    rules.append(
        RecordingRule(
            c.DURATION_COUNT_RATE.format(window=SHORT),
            f"sum by ({TENANT_BY}) ({_rate(config, count)})",
        )
    )
    rules.append(_ratio(LATENCY_RATIO, TENANT, SHORT))
    return rules


def _within_rate(config: Config, tier: str, latency: float) -> RecordingRule:
    matchers = f'{TENANT.matcher}, {c.LABEL_TIER}="{tier}", le="{le_label(le_bound(latency))}"'
    bucket = f"{c.PROBE_DURATION}_bucket{{{matchers}}}"
    return RecordingRule(
        c.WITHIN_LATENCY_RATE.format(window=SHORT),
        f"sum by ({TENANT_BY}) ({_rate(config, bucket)})",
        {c.LABEL_TIER: tier},  # the series have it already: it tells the tiers' rules apart
    )


def _ratio(sli: Ratio, level: Level, window: str) -> RecordingRule:
    """good / total over a window, from the 5m rates, or the hourly ones for day windows."""
    source = HOURLY if window in DAY_WINDOWS else SHORT
    good = sli.good.format(level=level.name, window=source)
    total = sli.total.format(level=level.name, window=source)
    expr = (
        f"{good} / {total}"
        if window == SHORT
        else f"avg_over_time({good}[{window}]) / avg_over_time({total}[{window}])"
    )
    return RecordingRule(sli.record.format(level=level.name, window=window), expr)


def _windows(ratios: tuple[Ratio, ...], windows: tuple[str, ...]) -> tuple[RecordingRule, ...]:
    return tuple(
        _ratio(sli, level, window) for window in windows for sli in ratios for level in sli.levels
    )


def _days(ratios: tuple[Ratio, ...]) -> tuple[RecordingRule, ...]:
    """Hourly rates, then the day-long windows from them."""
    hourly = tuple(
        RecordingRule(
            template.format(level=level.name, window=HOURLY),
            f"avg_over_time({template.format(level=level.name, window=SHORT)}[{HOURLY}])",
        )
        for sli in ratios
        for level in sli.levels
        for template in (sli.good, sli.total)
    )
    return hourly + _windows(ratios, DAY_WINDOWS)


def _budgets(config: Config) -> tuple[RecordingRule, ...]:
    """1 - bad share over the SLO period / allowed bad share: 1 untouched, 0 spent, < 0 over."""
    return tuple(
        RecordingRule(
            c.BUDGET_REMAINING.format(slo=slo.name),
            f"1 - (1 - {slo.sli.format(window=c.SLO_PERIOD)}{tier_selector(name)}) "
            f"/ {number(slo.budget(tier))}",
            {c.LABEL_TIER: name},
        )
        for name, tier in config.tiers.items()
        for slo in SLOS
    )
