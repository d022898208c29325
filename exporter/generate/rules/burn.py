"""Multi-window multi-burn-rate alerts per tenant, the Google SRE workbook's as sloth writes them.

A burn rate of N spends the 30-day error budget N times too fast. Each pair of windows fires
when both its long window (the burn is real) and its short window (it is still going on) run
above the factor: 14.4x over 1h and 5m or 6x over 6h and 30m pages, 3x over 1d and 2h or
1x over 3d and 6h opens a ticket. One rule per tier, SLO and urgency, since thresholds are
per tier; every tenant of the tier is a separate alert through its labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from exporter import conventions as c
from exporter.config import Config, Tier, format_duration, parse_duration
from exporter.generate.model import AlertingRule, RuleGroup
from exporter.generate.rules.objectives import SLOS, Slo, number, tier_selector

PAGE_SEVERITY = "critical"
TICKET_SEVERITY = "medium"
_TEMPLATE_TENANT = "{{ $labels.tenant }}"


@dataclass(frozen=True, slots=True)
class Burn:
    factor: Decimal
    long: str
    short: str
    page: bool

    def threshold(self, budget: Decimal) -> float:
        """The bad-run share both windows must exceed."""
        return float(self.factor * budget)


BURNS = (
    Burn(Decimal("14.4"), "1h", "5m", page=True),
    Burn(Decimal("6"), "6h", "30m", page=True),
    Burn(Decimal("3"), "1d", "2h", page=False),
    Burn(Decimal("1"), "3d", "6h", page=False),
)


def burn_group(config: Config) -> RuleGroup:
    return RuleGroup(
        c.GROUP_SLO_ALERTS,
        tuple(
            _alert(slo, name, tier, page)
            for name, tier in config.tiers.items()
            for slo in SLOS
            for page in (True, False)
        ),
    )


def alert_name(slo: Slo, page: bool) -> str:
    return slo.page if page else slo.ticket


def alert_labels(slo: Slo, page: bool) -> dict[str, str]:
    """The labels a burn-rate alert adds to its tenant and tier."""
    severity = PAGE_SEVERITY if page else TICKET_SEVERITY
    return {
        c.LABEL_SEVERITY: severity,
        c.LABEL_CONTEXT: c.SLO_CONTEXT,
        c.LABEL_PRIORITY: c.PRIORITIES[severity],
        c.LABEL_ESCALATION_LEVEL: "0",
        c.LABEL_SLO: slo.name,
    }


def alert_annotations(
    slo: Slo, tier_name: str, tier: Tier, page: bool, tenant: str = _TEMPLATE_TENANT
) -> dict[str, str]:
    """summary, description and runbook_url; `tenant` is a template or, in tests, its value."""
    first, second = (b for b in BURNS if b.page == page)
    budget = slo.budget(tier)
    spent_in = format_duration(parse_duration(c.SLO_PERIOD) / float(first.factor))
    out = {
        c.ANNOTATION_SUMMARY: f"Tenant {tenant} is burning its {slo.name} error budget "
        f"{'fast' if page else 'steadily'} ({tier_name} tier)",
        c.ANNOTATION_DESCRIPTION: (
            f"{slo.bad_runs(tier).capitalize()} of tenant {tenant} exceed "
            f"{number(first.factor)}x the {tier_name} tier's error budget "
            f"({number(budget * 100)}% of runs, objective {number(slo.objective(tier) * 100)}% "
            f"over {c.SLO_PERIOD}) over {first.long} and {first.short}, or "
            f"{number(second.factor)}x over {second.long} and {second.short}. "
            f"At {number(first.factor)}x the {c.SLO_PERIOD} budget is spent in {spent_in}."
        ),
    }
    if tier.runbook_url:
        out[c.ANNOTATION_RUNBOOK_URL] = tier.runbook_url
    return out


def _alert(slo: Slo, tier_name: str, tier: Tier, page: bool) -> AlertingRule:
    budget = number(slo.budget(tier))
    conditions = [_condition(slo, tier_name, burn, budget) for burn in BURNS if burn.page == page]
    return AlertingRule(
        alert_name(slo, page),
        "\nor\n".join(conditions),
        # tier is on the series already; as a rule label it tells the tiers' rules apart.
        labels={**alert_labels(slo, page), c.LABEL_TIER: tier_name},
        annotations=alert_annotations(slo, tier_name, tier, page),
    )


def _condition(slo: Slo, tier_name: str, burn: Burn, budget: str) -> str:
    selector = tier_selector(tier_name)
    over = [
        f"(1 - {slo.sli.format(window=window)}{selector}) > ({number(burn.factor)} * {budget})"
        for window in (burn.long, burn.short)
    ]
    return "(\n  " + "\nand\n  ".join(over) + "\n)"
