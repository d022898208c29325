"""promtool tests for the SLO rules: revenue at risk, availability, latency, budgets, burn rates.

promtool evaluates every rule at every evaluation step, so each file evaluates as coarsely as
its checks allow:

- revenue (1m): one failing target, two of one opportunity, recovery;
- slo (10m over 1m input): windows up to 6h hold their span, p95, objectives, page alerts;
- slo-long (2h over 5m input): every level and window, error budgets, ticket alerts;
- slo-days (1d over 5m input): windows 1d, 3d and 30d hold their span.

A window is checked when its span has just passed since a change (it still holds the old
rates) and one evaluation later (it holds only new ones): that pins its length to within one
evaluation interval of the file.
"""

from __future__ import annotations

from exporter import conventions as c
from exporter.config import Config, Target, Tier
from exporter.generate.model import PromqlTest, RuleTestFile, TestCase
from exporter.generate.rules.objectives import AVAILABILITY, LATENCY, ratio
from exporter.generate.rules.slo import (
    DAY_WINDOWS,
    GROUP_ORDER,
    HOUR_WINDOWS,
    PROBE,
    REVENUE_RULE_FILE,
    RULE_FILE,
    SHORT,
    TENANT,
)
from exporter.generate.ruletests.burn import PAGE_TIMING, TICKET_TIMING, burn_cases
from exporter.generate.ruletests.predict import predict_test_file
from exporter.generate.ruletests.revenue import revenue_cases
from exporter.generate.ruletests.series import scraped_labels, series
from exporter.generate.ruletests.sli import (
    budget_case,
    first_failure_case,
    levels_case,
    windows_case,
)
from exporter.generate.ruletests.slo_maintenance import maintenance_test_file
from exporter.generate.ruletests.slo_series import (
    BUCKET,
    COUNT,
    counter,
    sample,
    sample_targets,
    tier_le,
)

SLO_RULES = f"../{RULE_FILE}.rules.yml"
SHORT_EVALUATION = PAGE_TIMING.evaluation
LONG_EVALUATION = TICKET_TIMING.evaluation


def slo_test_files(config: Config) -> list[RuleTestFile]:
    """rules/tests/{revenue,slo,slo-long,slo-days}.test.yml, each when it has tests."""
    targets = sample_targets(config)
    tiered = [t for t in targets if t.tier in config.tiers and t.tenant]
    first = targets[:1]
    up_to_6h = (SHORT, *HOUR_WINDOWS)
    short = [windows_case(t, up_to_6h, "1m", SHORT_EVALUATION, "10m") for t in first]
    short += [_p95_case(config, t) for t in first]
    short += [first_failure_case(t, "1m", SHORT_EVALUATION) for t in first]
    short += [_objectives_case(config)] if config.tiers else []
    long = [levels_case(config, targets, "5m", LONG_EVALUATION)] if targets else []
    long += [budget_case(config, tiered, "5m", LONG_EVALUATION)] if tiered else []
    files = [
        RuleTestFile("revenue", (f"../{REVENUE_RULE_FILE}.rules.yml",), revenue_cases(config)),
        _slo_file("slo", SHORT_EVALUATION, (*short, *burn_cases(config, page=True))),
        _slo_file("slo-long", LONG_EVALUATION, (*long, *burn_cases(config, page=False))),
        _slo_file(
            "slo-days", "1d", tuple(windows_case(t, DAY_WINDOWS, "5m", "1d", "1d") for t in first)
        ),
    ]
    extra = [maintenance_test_file(config), predict_test_file(config)]
    return [f for f in files if f.tests] + [f for f in extra if f is not None]


def _slo_file(name: str, evaluation: str, tests: tuple[TestCase, ...]) -> RuleTestFile:
    return RuleTestFile(name, (SLO_RULES,), tests, evaluation, GROUP_ORDER)


def _p95_case(config: Config, target: Target) -> TestCase:
    """19 of 20 runs within the tier's bound (0.5s without a tier), 19.5 within the next one:
    the p95 is the bound itself and the latency SLI 0.95, read at the right bucket."""
    labels = scraped_labels(target)
    le = tier_le(config, labels) or "0.5"
    higher = repr(next(b for b in c.DURATION_BUCKETS if b > float(le)))
    minutes = 10
    inputs = [
        series(BUCKET, {**labels, "le": bound}, counter([per_minute] * minutes))
        for bound, per_minute in ((le, 1140.0), (higher, 1170.0), ("+Inf", 1200.0))
    ]
    inputs.append(series(COUNT, labels, counter([1200.0] * minutes)))
    at = f"{minutes}m"
    tenant = {c.LABEL_TENANT: target.tenant, c.LABEL_TIER: target.tier}
    tests = [_one(c.DURATION_P95.format(level=PROBE.name), labels, float(le), at)]
    if target.tenant:
        tests.append(_one(c.DURATION_P95.format(level=TENANT.name), tenant, float(le), at))
    if tier_le(config, labels):
        tests.append(_one(c.WITHIN_LATENCY.format(window="5m"), tenant, 0.95, at))
    return TestCase(
        "p95 latency per target and tenant, and the share of runs within the tier latency",
        tuple(inputs),
        promql_expr_test=tuple(tests),
    )


def _one(record: str, labels: dict[str, str], value: float, at: str) -> PromqlTest:
    return PromqlTest(record, at, (sample(record, labels, value),))


def _objectives_case(config: Config) -> TestCase:
    """Each tier's objectives: the exact ratios of its percentages, and its latency."""
    tests = tuple(
        PromqlTest(
            record,
            "0m",
            tuple(
                sample(record, {c.LABEL_TIER: name}, _objective(record, tier))
                for name, tier in config.tiers.items()
            ),
        )
        for record in _OBJECTIVES
    )
    return TestCase("the tiers' objectives are recorded as constants", (), promql_expr_test=tests)


_OBJECTIVES = (
    c.OBJECTIVE_AVAILABILITY,
    c.OBJECTIVE_LATENCY,
    c.OBJECTIVE_LATENCY_SECONDS,
    c.OBJECTIVE_ERROR_RATE,
)


def _objective(record: str, tier: Tier) -> float:
    if record == c.OBJECTIVE_AVAILABILITY:
        return float(AVAILABILITY.objective(tier))
    if record == c.OBJECTIVE_LATENCY:
        return float(LATENCY.objective(tier))
    if record == c.OBJECTIVE_ERROR_RATE:
        return float(ratio(tier.error_rate))
    return tier.latency
