"""promtool tests of revenue at risk: one target failing, two of one opportunity, recovery."""

from __future__ import annotations

from collections.abc import Sequence

from exporter import conventions as c
from exporter.config import Config, Target
from exporter.generate.model import ExpectedSample, PromqlTest, Series, TestCase
from exporter.generate.ruletests.series import scraped_labels, series
from exporter.generate.ruletests.slo_series import sample, selector

# Whether each picked target is failing at each minute: the first fails alone, then the second
# (same tenant and context when there is one) joins, then the third (same context, another
# tenant); then they recover one by one.
TIMELINE = (
    (0, 0, 1, 1, 1, 1, 0, 0, 0),
    (0, 0, 0, 0, 1, 1, 1, 0, 0),
    (0, 0, 0, 0, 0, 1, 1, 1, 0),
)
CHECKS = (2, 4, 5, 6, 7, 8)  # minutes
_LEVELS = (
    (c.REVENUE_AT_RISK_OPPORTUNITY, (c.LABEL_TENANT, c.LABEL_CONTEXT)),
    (c.REVENUE_AT_RISK_CONTEXT, (c.LABEL_CONTEXT,)),
    (c.REVENUE_AT_RISK_TENANT, (c.LABEL_TENANT,)),
    (c.REVENUE_AT_RISK_TOTAL, ()),
)


def revenue_cases(config: Config) -> tuple[TestCase, ...]:
    targets = _pick(config)
    if not targets:
        return ()
    return (
        TestCase(
            "revenue at risk counts each failing opportunity once, per context, tenant and "
            "in total, and clears on recovery",
            tuple(s for i, t in enumerate(targets) for s in _inputs(t, TIMELINE[i])),
            promql_expr_test=tuple(
                PromqlTest(record, f"{minute}m", _expected(targets, minute, record, by))
                for minute in CHECKS
                for record, by in _LEVELS
            )
            + tuple(_probe_level(targets, minute) for minute in CHECKS),
        ),
    )


def _pick(config: Config) -> list[Target]:
    """A target with revenue at risk, one of the same tenant and context, one of the same
    context and another tenant: each only when the config has one."""
    money = [t for t in config.targets if t.revenue_at_risk is not None]
    if not money:
        return []
    first = money[0]
    picked = [first]
    for same_tenant in (True, False):
        match = next(
            (
                t
                for t in money
                if t not in picked
                and t.context == first.context
                and (t.tenant == first.tenant) == same_tenant
            ),
            None,
        )
        if match is not None:
            picked.append(match)
    return picked


def _inputs(target: Target, failing: Sequence[int]) -> list[Series]:
    labels = scraped_labels(target)
    money = target.revenue_at_risk
    assert money is not None
    return [
        series(
            c.PROBE_REVENUE_AT_RISK,
            {**labels, c.LABEL_CURRENCY: money.currency},
            [money.amount] * len(failing),
        ),
        series(c.PROBE_FAILING, labels, [float(f) for f in failing]),
    ]


def _failing(targets: Sequence[Target], minute: int) -> list[bool]:
    return [bool(TIMELINE[i][minute]) for i in range(len(targets))]


def _opportunities(targets: Sequence[Target], minute: int) -> dict[tuple[str, str, str], float]:
    """(tenant, context, currency) -> the largest amount of its failing targets, else 0."""
    out: dict[tuple[str, str, str], float] = {}
    for target, failing in zip(targets, _failing(targets, minute), strict=True):
        money = target.revenue_at_risk
        assert money is not None
        key = (target.tenant, target.context, money.currency)
        out[key] = max(out.get(key, 0.0), money.amount if failing else 0.0)
    return out


def _expected(
    targets: Sequence[Target], minute: int, record: str, by: tuple[str, ...]
) -> tuple[ExpectedSample, ...]:
    """Opportunities summed by `by` and currency: computed here the way the rules should."""
    sums: dict[str, tuple[dict[str, str], float]] = {}
    for (tenant, context, currency), amount in _opportunities(targets, minute).items():
        if record == c.REVENUE_AT_RISK_TENANT and not tenant:
            continue
        values = {c.LABEL_TENANT: tenant, c.LABEL_CONTEXT: context}
        labels = {k: values[k] for k in by if values[k]} | {c.LABEL_CURRENCY: currency}
        key = selector("", labels)
        sums[key] = (labels, sums.get(key, (labels, 0.0))[1] + amount)
    return tuple(sample(record, labels, value) for _, (labels, value) in sorted(sums.items()))


def _probe_level(targets: Sequence[Target], minute: int) -> PromqlTest:
    """Per target: its amount while failing, 0 otherwise, the currency label kept."""
    out = []
    for target, failing in zip(targets, _failing(targets, minute), strict=True):
        money = target.revenue_at_risk
        assert money is not None
        labels = {**scraped_labels(target), c.LABEL_CURRENCY: money.currency}
        out.append(sample(c.REVENUE_AT_RISK_PROBE, labels, money.amount if failing else 0.0))
    return PromqlTest(c.REVENUE_AT_RISK_PROBE, f"{minute}m", tuple(out))
