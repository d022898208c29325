"""What the dashboards need to know about a config: which series its rules record, and its key
contexts. A panel is generated only when the series it reads can exist: no empty error-budget
panels for a config without tiers, no revenue panels when nothing has a value at stake."""

from __future__ import annotations

from dataclasses import dataclass

from exporter.config import Config

# Grafana's currency units; an amount in another currency is shown as a number with its code.
_CURRENCY_UNITS = frozenset(
    ("USD", "GBP", "EUR", "JPY", "RUB", "UAH", "BRL", "DKK", "ISK", "NOK", "SEK", "CZK", "CHF")
)
# Per-context tiles take ids from here on, one per context the config defines.
CONTEXT_TILE_IDS = 100


def has_revenue(config: Config) -> bool:
    """Whether any target puts revenue at stake (the revenue recording rules have series)."""
    return any(t.revenue_at_risk is not None for t in config.targets)


def has_tenants(config: Config) -> bool:
    """Whether the tenant-level SLO rules have series."""
    return any(t.tenant for t in config.targets)


def has_tiers(config: Config) -> bool:
    """Whether the tier-level SLO rules have series."""
    return any(t.tier for t in config.targets)


def has_budgets(config: Config) -> bool:
    """Whether error budgets are recorded: a tenant's target on a tier the config defines."""
    return any(t.tenant and t.tier in config.tiers for t in config.targets)


def currency_unit(config: Config) -> str:
    """Grafana's unit for the one currency of the config's amounts, or a plain number."""
    currencies = {t.revenue_at_risk.currency for t in config.targets if t.revenue_at_risk}
    if len(currencies) == 1 and (code := currencies.pop()) in _CURRENCY_UNITS:
        return f"currency{code}"
    return "short"


@dataclass(frozen=True, slots=True)
class KeyContext:
    id: int
    name: str
    title: str


def key_contexts(config: Config) -> list[KeyContext]:
    """The contexts with revenue at stake (the Zebra opportunity), or every context targets use
    when none has. A tile's id is fixed by the context's place in `contexts:` (by name when the
    config defines none), so adding a target never renumbers a panel."""
    used = {t.context for t in config.targets}
    at_stake = {t.context for t in config.targets if t.revenue_at_risk is not None}
    keys = at_stake or used
    names = list(config.contexts) or sorted(used)
    return [
        KeyContext(CONTEXT_TILE_IDS + i, name, _title(config, name))
        for i, name in enumerate(names)
        if name in keys
    ]


def _title(config: Config, name: str) -> str:
    context = config.contexts.get(name)
    return context.display_name if context is not None and context.display_name else name
