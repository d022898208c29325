"""From what was queried to each tenant's figures: availability, budget, latency, incidents.

Availability is successful runs / all runs over the period, runs inside a maintenance window of
the tenant's service left out. The error budget remaining is `1 - (1 - availability) /
(1 - objective)`: 1 untouched, 0 spent, negative overspent. The p95 is read from the duration
histogram as Prometheus' histogram_quantile reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from exporter.config import Config
from exporter.config.maintenance import excluded_spans, windows_of
from exporter.config.timeintervals import Span, merge
from exporter.generate.rules.objectives import le_bound
from exporter.report.collect import Counts, Raw, Scope
from exporter.report.period import Period, inside


@dataclass(frozen=True, slots=True)
class Incident:
    start: datetime
    end: datetime
    service: str
    probes: tuple[str, ...]

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class Latency:
    p95_seconds: float | None
    objective_seconds: float  # the tier's latency
    objective: float  # the share of runs that must be within it
    within: float | None  # the share that was

    @property
    def compliant(self) -> bool | None:
        return None if self.within is None else self.within >= self.objective


@dataclass(frozen=True, slots=True)
class Bar:
    """One bucket of the chart: its span and availability (None without runs)."""

    start: datetime
    end: datetime
    availability: float | None


@dataclass(slots=True)
class TenantReport:
    tenant: str
    display_name: str
    tier: str
    objective: float | None
    counts: Counts = field(default_factory=Counts)
    latency: Latency | None = None
    incidents: list[Incident] = field(default_factory=list)
    chart: list[Bar] = field(default_factory=list)
    maintenance_seconds: float = 0.0
    windows: list[str] = field(default_factory=list)

    @property
    def availability(self) -> float | None:
        return self.counts.good / self.counts.runs if self.counts.runs else None

    @property
    def error_budget_remaining(self) -> float | None:
        if self.availability is None or self.objective is None:
            return None
        return 1 - (1 - self.availability) / (1 - self.objective)

    @property
    def compliant(self) -> bool | None:
        if self.availability is None or self.objective is None:
            return None
        latency_ok = self.latency is None or self.latency.compliant is not False
        return self.availability >= self.objective and latency_ok


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    generated_at: datetime
    tenants: list[TenantReport]


def tenants_of(config: Config) -> list[str]:
    """The config's tenants, or the tenants its targets name when it declares none."""
    return list(config.tenants) or sorted({t.tenant for t in config.targets if t.tenant})


def compute(config: Config, period: Period, raw: Raw, tenants: list[str], now: datetime) -> Report:
    return Report(period, now, [_tenant(config, period, raw, name) for name in tenants])


def _tenant(config: Config, period: Period, raw: Raw, name: str) -> TenantReport:
    declared = config.tenants.get(name)
    tier_name = declared.tier if declared else _target_tier(config, name)
    tier = config.tiers.get(tier_name)
    report = TenantReport(
        name,
        declared.display_name if declared and declared.display_name else name,
        tier_name,
        tier.availability / 100 if tier else None,
    )
    scopes = _scopes(config, raw, name)
    excluded = {s: excluded_spans(config, *s, period.start, period.end) for s in scopes}
    bars = {bucket: Counts() for bucket in period.buckets()}
    for stretch, counts in zip(raw.stretches, raw.counts, strict=True):
        bucket = next(b for b in bars if b[0] <= stretch[0] and stretch[1] <= b[1])
        for scope in scopes:
            if scope in counts and not inside(stretch, excluded[scope]):
                report.counts.add(counts[scope])
                bars[bucket].add(counts[scope])
    report.chart = [Bar(s, e, _ratio(n)) for (s, e), n in bars.items()]
    report.maintenance_seconds = _union_seconds([x for spans in excluded.values() for x in spans])
    report.windows = sorted(
        {w for s in scopes for w in windows_of(config, *s) if _held(config, w, period)}
    )
    if tier is not None:
        report.latency = _latency(report.counts, tier.latency, tier.latency_objective / 100)
    report.incidents = _incidents(raw, period, name, excluded)
    return report


def _held(config: Config, window: str, period: Period) -> bool:
    return bool(config.maintenance[window].spans(period.start, period.end))


def _target_tier(config: Config, tenant: str) -> str:
    return next((t.tier for t in config.targets if t.tenant == tenant and t.tier), "")


def _scopes(config: Config, raw: Raw, tenant: str) -> list[Scope]:
    """Every service of the tenant: its targets' now, and any in the history."""
    found = {(t.tenant, t.service) for t in config.targets if t.tenant == tenant}
    found |= {scope for counts in raw.counts for scope in counts if scope[0] == tenant}
    return sorted(found)


def _ratio(counts: Counts) -> float | None:
    return counts.good / counts.runs if counts.runs else None


def _union_seconds(spans: list[Span]) -> float:
    return float(sum((e - s).total_seconds() for s, e in merge(spans)))


def _latency(counts: Counts, bound: float, objective: float) -> Latency:
    le = le_bound(bound)
    within = counts.buckets.get(le)
    share = within / counts.runs if within is not None and counts.runs else None
    return Latency(quantile(0.95, counts.buckets), bound, objective, share)


def quantile(q: float, buckets: dict[float, float]) -> float | None:
    """histogram_quantile over cumulative buckets: linear within the bucket that holds it."""
    ordered = sorted(buckets.items())
    if not ordered or ordered[-1][1] <= 0:
        return None
    rank = q * ordered[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound  # as Prometheus: the highest finite bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return lower_bound


def _incidents(
    raw: Raw, period: Period, tenant: str, excluded: dict[Scope, list[Span]]
) -> list[Incident]:
    """Stretches during which some probe of a service had business_probe_failing at 1, the
    grid points inside the service's maintenance windows left out."""
    by_service: dict[str, dict[float, set[str]]] = {}
    for series in raw.failing:
        if series.labels.get("tenant") != tenant:
            continue
        service, probe = series.labels.get("service", ""), series.labels.get("probe", "")
        spans = excluded.get((tenant, service), [])
        grid = by_service.setdefault(service, {})
        for t, value in series.points:
            when = datetime.fromtimestamp(t, period.start.tzinfo)
            if value >= 1 and not any(s <= when < e for s, e in spans):
                grid.setdefault(t, set()).add(probe)
    found = []
    for service, grid in by_service.items():
        found += _runs_of(grid, raw.step, period, service)
    return sorted(found, key=lambda i: (i.start, i.service))


def _runs_of(
    grid: dict[float, set[str]], step: float, period: Period, service: str
) -> list[Incident]:
    out: list[Incident] = []
    start: float | None = None
    probes: set[str] = set()
    times = sorted(grid)
    for i, t in enumerate(times):
        if start is None:
            start, probes = t, set()
        probes |= grid[t]
        following = times[i + 1] if i + 1 < len(times) else None
        if following is None or following - t > step * 1.5:
            tz = period.start.tzinfo
            end = min(datetime.fromtimestamp(t + step, tz), period.end)
            out.append(
                Incident(datetime.fromtimestamp(start, tz), end, service, tuple(sorted(probes)))
            )
            start = None
    return out
