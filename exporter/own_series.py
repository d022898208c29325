"""Series both /metrics renderers take from prometheus_client: the maintenance windows' and the
exporter's own (build, reloads, scheduler, /probe), a few dozen lines whatever the targets."""

from __future__ import annotations

import platform
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client.core import Metric

from exporter import __version__
from exporter import conventions as c
from exporter.families import extra_labels, histogram_samples
from exporter.ondemand import OnDemandProbes
from exporter.runtime import Runtime


def _family(name: str, doc: str, kind: str) -> Metric:
    return Metric(name, doc, kind)


def maintenance_families(runtime: Runtime, now: float | None = None) -> Iterator[Metric]:
    """business_maintenance_window_active: per window, each tenant and service of the probed
    targets it covers, 1 while it holds. Nothing for a config without windows."""
    windows = runtime.config.maintenance
    if not windows:
        return
    when = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    scopes = sorted({(s.about.tenant, s.about.service) for s in runtime.scheduler.states.values()})
    family = _family(
        c.MAINTENANCE_ACTIVE,
        "1 while a maintenance window holds for a tenant's service: its runs page nobody "
        "and are left out of the SLIs.",
        "gauge",
    )
    for name, window in windows.items():
        active = float(window.active_at(when))
        for tenant, service in scopes:
            if window.covers(tenant, service):
                labels = {c.LABEL_WINDOW: name, c.LABEL_TENANT: tenant, c.LABEL_SERVICE: service}
                family.add_sample(c.MAINTENANCE_ACTIVE, labels, active)
    if family.samples:
        yield family


def self_families(runtime: Runtime) -> Iterator[Metric]:
    """The exporter's own series."""
    scheduler = runtime.scheduler
    info = _family(c.BUILD_INFO, "Version of the exporter, always 1.", "gauge")
    info.add_sample(
        c.BUILD_INFO, {"version": __version__, "pythonversion": platform.python_version()}, 1
    )
    yield info
    yield _gauge(
        c.CONFIG_RELOAD_SUCCESSFUL,
        "Whether the last config reload succeeded.",
        float(runtime.last_reload_successful),
    )
    yield _gauge(
        c.CONFIG_RELOAD_TIMESTAMP,
        "When the config was last loaded successfully.",
        runtime.last_reload_success_timestamp,
    )
    reloads = _family(c.CONFIG_RELOADS, "Config reloads by result.", "counter")
    for result, count in sorted(runtime.reloads.items()):
        reloads.add_sample(c.CONFIG_RELOADS + "_total", {c.LABEL_RESULT: result}, count)
    yield reloads
    yield _gauge(c.TARGETS, "Targets this exporter probes.", len(scheduler.states))
    yield _gauge(c.PROBES_IN_FLIGHT, "Probes running right now.", scheduler.in_flight)
    yield _gauge(
        c.MAX_CONCURRENT_PROBES, "Limit on probes running at once.", scheduler.max_concurrency
    )
    lag = _family(
        c.SCHEDULER_LAG, "How late probe runs started against their schedule.", "histogram"
    )
    for name, extra, extra_value, value in histogram_samples(c.SCHEDULER_LAG, scheduler.lag):
        lag.add_sample(name, extra_labels(extra, extra_value), value)
    yield lag
    missed = _family(
        c.MISSED_RUNS, "Runs skipped because the previous one overran its interval.", "counter"
    )
    missed.add_sample(c.MISSED_RUNS + "_total", {}, scheduler.missed_runs)
    yield missed
    yield from _on_demand_families(runtime.on_demand)


def _on_demand_families(on_demand: OnDemandProbes) -> Iterator[Metric]:
    yield _gauge(
        c.PROBE_REQUESTS_IN_FLIGHT,
        "/probe requests waiting for or watching a run.",
        on_demand.requests_in_flight,
    )
    yield _gauge(
        c.PROBE_RUNS_PENDING,
        "/probe runs waiting for a slot or running; concurrent requests for a target share one.",
        on_demand.pending,
    )
    yield _gauge(
        c.MAX_PENDING_PROBE_RUNS,
        "Limit on pending /probe runs, beyond which /probe answers 429.",
        on_demand.max_pending,
    )
    rejected = _family(
        c.PROBE_REQUESTS_REJECTED, "/probe requests refused with 429 Too Many Requests.", "counter"
    )
    rejected.add_sample(c.PROBE_REQUESTS_REJECTED + "_total", {}, on_demand.rejected)
    yield rejected


def _gauge(name: str, doc: str, value: float) -> Metric:
    family = _family(name, doc, "gauge")
    family.add_sample(name, {}, value)
    return family
