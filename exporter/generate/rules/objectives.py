"""The SLOs a tier sets, as exact decimals, and the histogram bound its latency SLI reads.

Objectives are written into PromQL as decimal text (0.999, not 0.9990000000000001) and read
back by the generated tests as the same floats Prometheus parses.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from exporter import conventions as c
from exporter.config import Tier, format_duration


@dataclass(frozen=True, slots=True)
class Slo:
    """One SLO every tenant has, judged against its tier."""

    name: str  # conventions.SLO_AVAILABILITY or SLO_LATENCY
    percent: str  # the Tier field holding the objective in percent
    sli: str  # template of the tenant-level good-runs ratio, .format(window=...)
    page: str  # alert names
    ticket: str
    what: str  # what a bad run is, for annotations; "{latency}" is the tier's bound

    def objective(self, tier: Tier) -> Decimal:
        """The share of good runs the tier promises, e.g. Decimal("0.999")."""
        percent: float = getattr(tier, self.percent)
        return ratio(percent)

    def budget(self, tier: Tier) -> Decimal:
        """The share of bad runs the tier allows over the SLO period."""
        return 1 - self.objective(tier)

    def bad_runs(self, tier: Tier) -> str:
        return self.what.format(latency=format_duration(tier.latency))


AVAILABILITY = Slo(
    c.SLO_AVAILABILITY,
    "availability",
    c.AVAILABILITY.format(level=c.SLO_LEVELS[2], window="{window}"),  # per tenant
    c.ALERT_AVAILABILITY_BURN_PAGE,
    c.ALERT_AVAILABILITY_BURN_TICKET,
    "failed runs",
)
LATENCY = Slo(
    c.SLO_LATENCY,
    "latency_objective",
    c.WITHIN_LATENCY,
    c.ALERT_LATENCY_BURN_PAGE,
    c.ALERT_LATENCY_BURN_TICKET,
    "runs slower than {latency}",
)
SLOS = (AVAILABILITY, LATENCY)


def ratio(percent: float) -> Decimal:
    """A config percentage as an exact ratio: 99.9 -> Decimal("0.999")."""
    return Decimal(repr(percent)) / 100


def tier_selector(tier: str) -> str:
    return f'{{{c.LABEL_TIER}="{tier}"}}'


def number(value: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros: 0.010 -> 0.01, 1E+1 -> 10."""
    return format(value.normalize(), "f")


def le_bound(latency: float) -> float:
    """The duration bucket a tier's latency SLI counts up to.

    Exact when the latency is a bucket bound (conventions.DURATION_BUCKETS holds the seed's
    0.5, 0.75 and 1.0). Otherwise the largest bound below it, which only makes the SLO stricter,
    or the smallest bound for a latency below every bound.
    """
    below = [b for b in c.DURATION_BUCKETS if b <= latency]
    return below[-1] if below else c.DURATION_BUCKETS[0]


def le_label(bound: float) -> str:
    """A bound as the collector writes it in the `le` label."""
    return repr(bound)
