"""A tenant's status page as data: what its customers may see (`/status/<tenant>`).

Service by service: up, disrupted, in maintenance, or not yet known, and how its recent runs
went, from the rings of the tenant's targets. No target name, failure reason, detail or URL:
only the tenant's service names, its display name and times. Only tenants whose config says
`status_page: true` have one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from exporter.config import Config
from exporter.config.maintenance import active_windows
from exporter.conventions import RESULT_SUCCESS
from exporter.pages.history import Spans, maintenance_spans
from exporter.runtime import Runtime
from exporter.state import TargetState

OPERATIONAL, DISRUPTED, MAINTENANCE, UNKNOWN = "operational", "disrupted", "maintenance", "unknown"
NO_DATA = "none"
BUCKETS = 30  # stretches of the history strip
UPCOMING = timedelta(days=7)  # how far ahead planned maintenance is announced
_WORST_FIRST = (DISRUPTED, MAINTENANCE, OPERATIONAL, NO_DATA)


@dataclass(frozen=True, slots=True)
class Stretch:
    """One bucket of a service's recent history."""

    start: float
    end: float
    status: str  # operational, disrupted, maintenance, none (no run in it)


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    service: str
    status: str
    availability: float | None  # of the runs held, those outside maintenance; None: no run
    history: tuple[Stretch, ...]


@dataclass(frozen=True, slots=True)
class Planned:
    """A stretch of maintenance, now or to come, and the services it covers."""

    start: float
    end: float
    services: tuple[str, ...]
    in_progress: bool


@dataclass(frozen=True, slots=True)
class TenantStatus:
    tenant: str
    name: str
    generated_at: float
    since: float  # the history covers [since, generated_at]
    services: tuple[ServiceStatus, ...]
    maintenance: tuple[Planned, ...]

    @property
    def status(self) -> str:
        statuses = {s.status for s in self.services}
        for status in (DISRUPTED, MAINTENANCE, OPERATIONAL):
            if status in statuses:
                return status
        return UNKNOWN


def published(config: Config, tenant: str) -> bool:
    """Whether the tenant's config opts in to a status page."""
    spec = config.tenants.get(tenant)
    return spec is not None and spec.status_page


def tenant_status(
    runtime: Runtime, tenant: str, now: float, states: list[TargetState] | None = None
) -> TenantStatus:
    """The tenant's page from the state table (or `states`, a list of it)."""
    config = runtime.config
    by_service: dict[str, list[TargetState]] = defaultdict(list)
    for state in runtime.scheduler.states.values() if states is None else states:
        if state.about.tenant == tenant:
            by_service[state.about.service].append(state)
    oldest = [next(s.history.runs(), (now, ""))[0] for v in by_service.values() for s in v]
    since = float(max(oldest, default=now))
    services = tuple(
        _service(config, tenant, service, states, since, now)
        for service, states in sorted(by_service.items())
    )
    spec = config.tenants.get(tenant)  # gone, if a reload came meanwhile
    name = spec.display_name if spec is not None and spec.display_name else tenant
    planned = tuple(_planned(config, tenant, sorted(by_service), now))
    return TenantStatus(tenant, name, now, since, services, planned)


def _service(
    config: Config, tenant: str, service: str, states: list[TargetState], since: float, now: float
) -> ServiceStatus:
    moment = datetime.fromtimestamp(now, UTC)
    if active_windows(config, tenant, service, moment):
        status = MAINTENANCE
    elif any(s.failing for s in states):
        status = DISRUPTED
    elif all(s.last_result is None for s in states):
        status = UNKNOWN
    else:
        status = OPERATIONAL
    longest = max(s.plan.interval for s in states)
    spans = maintenance_spans(config, tenant, service, longest, now)
    width = max(now - since, 1.0) / BUCKETS
    buckets: list[set[str]] = [set() for _ in range(BUCKETS)]
    counted = passed = 0
    for state in states:
        runs = [(when, _seen(when, result, spans)) for when, result in state.history.runs()]
        for i, seen in enumerate(_buckets(runs, since, width)):
            if seen is not None:
                buckets[i].add(seen)
        counted += sum(1 for when, seen in runs if when >= since and seen != MAINTENANCE)
        passed += sum(1 for when, seen in runs if when >= since and seen == OPERATIONAL)
    history = tuple(
        Stretch(since + i * width, since + (i + 1) * width, _worst(seen))
        for i, seen in enumerate(buckets)
    )
    availability = passed / counted if counted else None
    return ServiceStatus(service, status, availability, history)


def _seen(when: float, result: str, spans: Spans) -> str:
    if any(start <= when < end for start, end in spans):
        return MAINTENANCE
    return OPERATIONAL if result == RESULT_SUCCESS else DISRUPTED


def _buckets(runs: list[tuple[float, str]], since: float, width: float) -> list[str | None]:
    """What one target saw in each bucket: the worst of its runs there or, with none there,
    what its run before said (a result holds until the next run); None before its first."""
    out: list[str | None] = []
    previous: str | None = None
    at = 0
    for i in range(BUCKETS):
        end = since + (i + 1) * width
        seen: set[str] = set()
        while at < len(runs) and runs[at][0] < end:
            when, result = runs[at]
            if when >= since:
                seen.add(result)
            previous, at = result, at + 1
        out.append(_worst(seen) if seen else previous)
    return out


def _worst(seen: set[str]) -> str:
    return next((s for s in _WORST_FIRST if s in seen), NO_DATA)


def _planned(config: Config, tenant: str, services: list[str], now: float) -> list[Planned]:
    """Each window's current or next stretch within UPCOMING, with the services it covers."""
    start = datetime.fromtimestamp(now, UTC)
    out = []
    for window in config.maintenance.values():
        covered = tuple(s for s in services if window.covers(tenant, s))
        stretches = window.spans(start, start + UPCOMING) if covered else []
        if stretches:
            first, end = stretches[0]
            now_on = window.active_at(start)
            out.append(Planned(first.timestamp(), end.timestamp(), covered, now_on))
    return sorted(out, key=lambda p: (p.start, p.services))
