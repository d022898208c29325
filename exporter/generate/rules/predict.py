"""Predictive SLO alerts (seeds 002 and 004): trouble seen coming, before a burn rate pages.

- **Budget exhaustion**, per SLO: the error budget left over 30 days is spent before the
  calendar month ends (UTC) if the last day's burn goes on. The last day's burn rate b (bad
  share over 1d / allowed bad share: budgets per 30 days) spends b x (seconds left in the
  month / 30 days) of a budget by the month's end; the alert fires, after an hour of it, when
  that is more than the share of the budget left, while some is left (an overspent budget is
  the burn-rate alerts' business). A ticket: `severity: medium`.
- **Latency trend**: the duration a tenant's tier bounds (the quantile at its latency_objective,
  the p95 by default) is under the tier's latency now, but `predict_linear` over the last hour
  (or the horizon, when longer) puts it above within the tier's `latency_horizon` (15m by
  default). `severity: high`.

Both read the SLI recordings, which leave maintenance windows out, so a window trends nothing.
"""

from __future__ import annotations

from exporter import conventions as c
from exporter.config import Config, Tier, format_duration
from exporter.generate.model import AlertingRule, RecordingRule, RuleGroup
from exporter.generate.rules.burn import alert_labels as burn_labels
from exporter.generate.rules.maintenance import leave_out
from exporter.generate.rules.objectives import LATENCY, SLOS, Slo, le_bound, number, tier_selector

EXHAUSTION_SEVERITY = "medium"
TREND_SEVERITY = "high"
EXHAUSTION_FOR = "1h"
TREND_FOR = "5m"
BURN_WINDOW = "1d"
MIN_LOOKBACK = 3600.0
MONTH_SECONDS = 30 * 86400  # the SLO period the burn rate is counted in
# Seconds from now to the end of the calendar month (UTC).
LEFT_IN_MONTH = "scalar((days_in_month() - day_of_month() + 1) * 86400 - vector(time()) % 86400)"
_TENANT = "{{ $labels.tenant }}"


def exhaustion_name(slo: Slo) -> str:
    if slo is LATENCY:
        return c.ALERT_LATENCY_BUDGET_EXHAUSTION
    return c.ALERT_AVAILABILITY_BUDGET_EXHAUSTION


def predict_group(config: Config) -> RuleGroup:
    rules: list[RecordingRule | AlertingRule] = []
    for name, tier in config.tiers.items():
        rules += [_exhaustion(slo, name, tier) for slo in SLOS]
        rules += [_quantile(config, name, tier), _trend(name, tier)]
    return RuleGroup(c.GROUP_SLO_PREDICTIONS, tuple(rules))


def labels(severity: str, slo: str) -> dict[str, str]:
    """What a prediction adds to its tenant and tier: as a burn-rate alert, but its severity."""
    return {**burn_labels(SLOS[0], True), c.LABEL_SEVERITY: severity, c.LABEL_SLO: slo,
            c.LABEL_PRIORITY: c.PRIORITIES[severity]}  # fmt: skip


def _exhaustion(slo: Slo, tier_name: str, tier: Tier) -> AlertingRule:
    selector = tier_selector(tier_name)
    left = f"{c.BUDGET_REMAINING.format(slo=slo.name)}{selector}"
    burn = f"(1 - {slo.sli.format(window=BURN_WINDOW)}{selector}) / {number(slo.budget(tier))}"
    return AlertingRule(
        exhaustion_name(slo),
        f"{left} > 0\nand\n{burn} * {LEFT_IN_MONTH} / {MONTH_SECONDS}\n  > {left}",
        for_=EXHAUSTION_FOR,
        labels={**labels(EXHAUSTION_SEVERITY, slo.name), c.LABEL_TIER: tier_name},
        annotations=exhaustion_annotations(slo, tier_name, tier),
    )


def exhaustion_annotations(
    slo: Slo, tier_name: str, tier: Tier, tenant: str = _TENANT
) -> dict[str, str]:
    out = {
        c.ANNOTATION_SUMMARY: f"Tenant {tenant} will spend its {slo.name} error budget "
        f"before the month ends ({tier_name} tier)",
        c.ANNOTATION_DESCRIPTION: (
            f"At the rate of {slo.bad_runs(tier)} of tenant {tenant} over the last "
            f"{BURN_WINDOW}, the {tier_name} tier's {c.SLO_PERIOD} error budget "
            f"({number(slo.budget(tier) * 100)}% of runs) is spent before the end of the "
            f"calendar month: its SLA for the month is at risk."
        ),
    }
    if tier.runbook_url:
        out[c.ANNOTATION_RUNBOOK_URL] = tier.runbook_url
    return out


def _quantile(config: Config, tier_name: str, tier: Tier) -> RecordingRule:
    matchers = f'{c.LABEL_TENANT}!="", {c.LABEL_TIER}="{tier_name}"'
    rate = leave_out(config, f"rate({c.PROBE_DURATION}_bucket{{{matchers}}}[5m])")
    by = f"{c.LABEL_TENANT}, {c.LABEL_TIER}, le"
    return RecordingRule(
        c.DURATION_OBJECTIVE_QUANTILE,
        f"histogram_quantile({number(LATENCY.objective(tier))}, sum by ({by}) ({rate}))",
        {c.LABEL_TIER: tier_name},
    )


def lookback(tier: Tier) -> str:
    return format_duration(max(MIN_LOOKBACK, tier.latency_horizon))


def _trend(tier_name: str, tier: Tier) -> AlertingRule:
    # The bound the latency SLI counts runs under (objectives.le_bound): the quantile is only
    # known at bucket bounds, and a latency between two is held to the one below it.
    bound = le_bound(tier.latency)
    now = f"{c.DURATION_OBJECTIVE_QUANTILE}{tier_selector(tier_name)}"
    ahead = f"predict_linear({now}[{lookback(tier)}], {tier.latency_horizon:g})"
    return AlertingRule(
        c.ALERT_LATENCY_TREND,
        f"{ahead} > {bound!r}\nand\n{now} <= {bound!r}",
        for_=TREND_FOR,
        labels={**labels(TREND_SEVERITY, LATENCY.name), c.LABEL_TIER: tier_name},
        annotations=trend_annotations(tier_name, tier),
    )


def trend_annotations(tier_name: str, tier: Tier, tenant: str = _TENANT) -> dict[str, str]:
    quantile = f"p{number(LATENCY.objective(tier) * 100)}"
    bound = format_duration(le_bound(tier.latency))
    out = {
        c.ANNOTATION_SUMMARY: f"Tenant {tenant}'s {quantile} latency is heading above "
        f"{bound} ({tier_name} tier)",
        c.ANNOTATION_DESCRIPTION: (
            f"The {quantile} run duration of tenant {tenant} is within the {tier_name} tier's "
            f"{bound} now, but its trend over the last {lookback(tier)} crosses it within "
            f"{format_duration(tier.latency_horizon)}."
        ),
    }
    if tier.runbook_url:
        out[c.ANNOTATION_RUNBOOK_URL] = tier.runbook_url
    return out
