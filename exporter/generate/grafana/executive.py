"""The executive dashboard: revenue at risk, a status tile per key context, SLA compliance."""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as model

from exporter import conventions as c
from exporter.config import Config
from exporter.generate.grafana import facts
from exporter.generate.grafana.panels import (
    PanelBuilder,
    Query,
    Section,
    Spec,
    bar_gauge,
    dashboard,
    select,
    stat_panel,
    thresholds,
    timeseries,
)

UID = "business-exporter-executive"
TITLE = "Business exporter: executive"
SUMMARY = (
    "What is at stake now: revenue at risk by context, the status of each key business context, "
    "and SLA compliance and error budgets by tier and tenant."
)
_TENANT, _SERVICE, _CONTEXT, _TIER = (
    c.LABEL_TENANT,
    c.LABEL_SERVICE,
    c.LABEL_CONTEXT,
    c.LABEL_TIER,
)
_TILE = ((0, "OK", "green"), (1, "AT RISK", "red"))
_PERCENT = "percentunit"


def executive(config: Config) -> model.Dashboard:
    return dashboard(
        UID,
        TITLE,
        SUMMARY,
        (
            Section(1, "Revenue at risk", _revenue(config)),
            Section(4, "Key business contexts", _tiles(config)),
            Section(10, "SLA compliance", _compliance(config)),
        ),
    )


def _revenue(config: Config) -> tuple[PanelBuilder, ...]:
    if not facts.has_revenue(config):
        return ()
    # Opportunities (tenant and context) each count once, so sums of them never double count.
    opportunities = select(c.REVENUE_AT_RISK_OPPORTUNITY, _TENANT, _CONTEXT)
    unit = facts.currency_unit(config)
    now = Spec(
        2,
        "Revenue at risk now",
        "The value at stake of every opportunity (a tenant's context) with a failing target.",
        (Query(f"sum by ({c.LABEL_CURRENCY}) ({opportunities})", "{{currency}}"),),
        unit,
        (6, 6),
    )
    by_context = Spec(
        3,
        "Revenue at risk by context",
        "Revenue at risk over time, by business context.",
        (
            Query(
                f"sum by ({_CONTEXT}, {c.LABEL_CURRENCY}) ({opportunities})",
                "{{context}} ({{currency}})",
            ),
        ),
        unit,
        (18, 6),
    )
    at_risk = thresholds(("green", None), ("red", 1))
    return (stat_panel(now).thresholds(at_risk), timeseries(by_context))


def _tiles(config: Config) -> tuple[PanelBuilder, ...]:
    """OK or AT RISK for each key context: whether any of its targets is failing."""
    return tuple(
        stat_panel(
            Spec(
                key.id,
                key.title,
                f"AT RISK while a target of context {key.name} is failing.",
                (Query(f"max({select(c.PROBE_FAILING, _TENANT, _SERVICE, fixed=_is(key.name))})"),),
                size=(6, 4),
            ),
            *_TILE,
        ).thresholds(thresholds(("green", None), ("red", 1)))
        for key in facts.key_contexts(config)
    )


def _is(context: str) -> str:
    return f'{_CONTEXT}="{context}"'


def _compliance(config: Config) -> tuple[PanelBuilder, ...]:
    panels: list[PanelBuilder] = []
    period = c.SLO_PERIOD
    if facts.has_tiers(config):
        tier = c.AVAILABILITY.format(level=_TIER, window=period)
        panels.append(
            _availability(11, f"Availability by tier ({period})", Query(tier, "{{tier}}"))
        )
    if facts.has_tenants(config):
        tenant = select(c.AVAILABILITY.format(level=_TENANT, window=period), _TENANT)
        panels.append(
            _availability(
                12, f"Availability by tenant ({period})", Query(tenant, "{{tenant}} ({{tier}})")
            )
        )
    if facts.has_budgets(config):
        panels += _budgets()
    by_service = select(c.AVAILABILITY.format(level=_SERVICE, window="1h"), _SERVICE)
    availability = Spec(
        15,
        "Availability by service (1h window)",
        "Share of successful probe runs over the past hour, by service.",
        (Query(by_service, "{{service}}"),),
        _PERCENT,
        (24, 8),
    )
    panels.append(timeseries(availability).min(0).max(1))
    return tuple(panels)


def _availability(id_: int, title: str, query: Query) -> PanelBuilder:
    description = "Share of successful probe runs over the SLO period, weighted by runs."
    return bar_gauge(Spec(id_, title, description, (query,), _PERCENT, (12, 6))).decimals(3)


def _budgets() -> list[PanelBuilder]:
    """Error budget left over the SLO period: 100% untouched, 0 spent, below 0 SLA breached."""
    slos = (c.SLO_AVAILABILITY, c.SLO_LATENCY)
    budgets = {slo: select(c.BUDGET_REMAINING.format(slo=slo), _TENANT) for slo in slos}
    steps = thresholds(("red", None), ("orange", 0), ("green", 0.25))
    description = "1 - (bad share of runs / allowed bad share): below 0 the SLA is breached."
    by_tenant = Spec(
        13,
        f"Error budget remaining by tenant ({c.SLO_PERIOD})",
        description,
        tuple(Query(expr, f"{{{{tenant}}}} {slo}") for slo, expr in budgets.items()),
        _PERCENT,
        (12, 6),
    )
    by_tier = Spec(
        14,
        f"Error budget remaining by tier, worst tenant ({c.SLO_PERIOD})",
        description,
        tuple(
            Query(f"min by ({_TIER}) ({expr})", f"{{{{tier}}}} {slo}")
            for slo, expr in budgets.items()
        ),
        _PERCENT,
        (12, 6),
    )
    return [bar_gauge(by_tenant, steps), bar_gauge(by_tier, steps)]
