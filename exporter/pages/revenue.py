"""Revenue at risk now, counted as the generated recording rules count it (generate/revenue.py).

An opportunity (a tenant's context) is at risk once however many of its targets fail: it
counts the largest amount among its failing targets; opportunities add up by tenant and in
total, per currency, never across currencies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from exporter.plan import TargetAbout


@dataclass(frozen=True, slots=True)
class Opportunity:
    tenant: str
    context: str
    amount: float


@dataclass(frozen=True, slots=True)
class CurrencyRisk:
    """What is at risk in one currency: the total, per tenant, and per opportunity."""

    currency: str
    amount: float
    tenants: tuple[tuple[str, float], ...]  # largest first
    opportunities: tuple[Opportunity, ...]  # largest first


def at_risk(failing: Iterable[TargetAbout]) -> list[CurrencyRisk]:
    """Per currency, largest total first, from the targets failing now."""
    largest: dict[tuple[str, str, str], float] = {}
    for target in failing:
        money = target.revenue_at_risk
        if money is None:
            continue
        key = (money.currency, target.tenant, target.context)
        largest[key] = max(largest.get(key, 0.0), money.amount)
    out = []
    for currency in sorted({key[0] for key in largest}):
        opportunities = sorted(
            (Opportunity(t, c, a) for (cur, t, c), a in largest.items() if cur == currency),
            key=lambda o: (-o.amount, o.tenant, o.context),
        )
        tenants: dict[str, float] = {}
        for o in opportunities:
            if o.tenant:  # as the tenant rule's tenant!="": a target without one counts in total
                tenants[o.tenant] = tenants.get(o.tenant, 0.0) + o.amount
        by_tenant = tuple(sorted(tenants.items(), key=lambda item: (-item[1], item[0])))
        total = sum(o.amount for o in opportunities)
        out.append(CurrencyRisk(currency, total, by_tenant, tuple(opportunities)))
    return sorted(out, key=lambda r: (-r.amount, r.currency))


def money(amount: float, currency: str) -> str:
    """925000 GBP -> 925,000 GBP: whole units unless there are pence."""
    text = f"{amount:,.0f}" if amount == int(amount) else f"{amount:,.2f}"
    return f"{text} {currency}"
