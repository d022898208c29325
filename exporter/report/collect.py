"""What the report asks Prometheus: increases of the raw run counters per stretch, and when
probes were failing.

Only raw series are read (`business_probe_runs_total`, the duration histogram, and
`business_probe_failing`), with `increase()` over each stretch: the report works on history
recorded before any recording rule existed, and whatever the rules' windows were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from exporter import conventions as c
from exporter.config.timeintervals import Span
from exporter.generate.rules.messages import matcher
from exporter.report.prometheus import Prometheus, Series

MAX_POINTS = 10_000  # a range query returns at most 11,000 points a series
Progress = Callable[[str], None]
Scope = tuple[str, str]  # (tenant, service)


@dataclass(slots=True)
class Counts:
    """Runs, successful runs and cumulative duration buckets over some time."""

    runs: float = 0.0
    good: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)  # le -> runs at most that long

    def add(self, other: Counts) -> None:
        self.runs += other.runs
        self.good += other.good
        for le, n in other.buckets.items():
            self.buckets[le] = self.buckets.get(le, 0.0) + n


@dataclass(slots=True)
class Raw:
    """Everything queried: counts per stretch and scope, and the failing probes over time."""

    stretches: list[Span]
    counts: list[dict[Scope, Counts]]  # one mapping per stretch
    failing: list[Series]  # business_probe_failing per tenant, service and probe
    step: float


def selector(tenant: str | None, *extra: str) -> str:
    """A tenant's series (a tenant's name is text from the config: quoted as PromQL quotes)."""
    mine = matcher(c.LABEL_TENANT, tenant) if tenant else matcher(c.LABEL_TENANT, "", "!=")
    return "{" + ", ".join([mine, *extra]) + "}"


def collect(
    prometheus: Prometheus,
    stretches: list[Span],
    tenant: str | None,
    step: float,
    progress: Progress,
) -> Raw:
    counts = []
    for i, stretch in enumerate(stretches, start=1):
        progress(f"querying Prometheus: stretch {i} of {len(stretches)}")
        counts.append(_stretch_counts(prometheus, stretch, tenant))
    progress("querying Prometheus: failing probes")
    period = (stretches[0][0], stretches[-1][1])
    return Raw(stretches, counts, _failing(prometheus, period, tenant, step), step)


def _stretch_counts(
    prometheus: Prometheus, stretch: Span, tenant: str | None
) -> dict[Scope, Counts]:
    start, end = stretch
    window = f"[{int((end - start).total_seconds())}s]"
    by = f"{c.LABEL_TENANT}, {c.LABEL_SERVICE}"
    success = selector(tenant, f'{c.LABEL_RESULT}="{c.RESULT_SUCCESS}"')
    queries = {
        "runs": f"sum by ({by}) (increase({c.PROBE_DURATION}_count{selector(tenant)}{window}))",
        "good": f"sum by ({by}) (increase({c.PROBE_RUNS}_total{success}{window}))",
        "buckets": f"sum by ({by}, le) "
        f"(increase({c.PROBE_DURATION}_bucket{selector(tenant)}{window}))",
    }
    out: dict[Scope, Counts] = {}
    for what, query in queries.items():
        for sample in prometheus.instant(query, end):
            scope = (sample.labels.get(c.LABEL_TENANT, ""), sample.labels.get(c.LABEL_SERVICE, ""))
            counts = out.setdefault(scope, Counts())
            if what == "runs":
                counts.runs = sample.value
            elif what == "good":
                counts.good = sample.value
            else:
                counts.buckets[float(sample.labels["le"])] = sample.value
    return out


def _failing(prometheus: Prometheus, period: Span, tenant: str | None, step: float) -> list[Series]:
    """business_probe_failing of every probe that failed in the period, on a grid of `step`."""
    start, end = period
    by = f"{c.LABEL_TENANT}, {c.LABEL_SERVICE}, {c.LABEL_PROBE}"
    window = f"[{int((end - start).total_seconds())}s]"
    ever = prometheus.instant(
        f"max by ({by}) (max_over_time({c.PROBE_FAILING}{selector(tenant)}{window})) > 0", end
    )
    probes = sorted({s.labels.get(c.LABEL_PROBE, "") for s in ever})
    if not probes:
        return []
    only = selector(tenant, f'{c.LABEL_PROBE}=~"{"|".join(probes)}"')
    query = f"max by ({by}) ({c.PROBE_FAILING}{only})"
    merged: dict[tuple[tuple[str, str], ...], Series] = {}
    at = start
    while at < end:
        last = min(end - timedelta(seconds=step), at + timedelta(seconds=step * (MAX_POINTS - 1)))
        for series in prometheus.range(query, at, max(at, last), step):
            key = tuple(sorted(series.labels.items()))
            merged.setdefault(key, Series(series.labels, [])).points.extend(series.points)
        at = last + timedelta(seconds=step)
    return list(merged.values())
