"""Renders the scheduler's state table as metric families at scrape time."""

from __future__ import annotations

import platform
from collections.abc import Iterable, Iterator

from prometheus_client.core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from exporter import __version__
from exporter import conventions as c
from exporter.runtime import Runtime
from exporter.state import Histogram, TargetState


class ProbeCollector(Collector):
    """Yields every probe series and the exporter's own from one pass over the state table."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        states = list(self.runtime.scheduler.states.values())
        yield from probe_families(states)
        yield from _self_families(self.runtime)


def build_registry(runtime: Runtime) -> CollectorRegistry:
    """An explicit registry holding only this exporter's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ProbeCollector(runtime))
    return registry


def _family(name: str, doc: str, kind: str) -> Metric:
    return Metric(name, doc, kind)


def probe_families(states: list[TargetState]) -> Iterator[Metric]:
    success = _family(c.PROBE_SUCCESS, "Whether the last run of the probe succeeded.", "gauge")
    duration = _family(c.PROBE_DURATION, "Duration of probe runs.", "histogram")
    runs = _family(c.PROBE_RUNS, "Probe runs by result: success or a failure reason.", "counter")
    failures = _family(
        c.PROBE_CONSECUTIVE_FAILURES, "Failed runs since the last successful one.", "gauge"
    )
    successes = _family(
        c.PROBE_CONSECUTIVE_SUCCESSES, "Successful runs since the last failed one.", "gauge"
    )
    failing = _family(
        c.PROBE_FAILING,
        "1 after failure_threshold consecutive failures, 0 again after success_threshold "
        "consecutive successes.",
        "gauge",
    )
    last_run = _family(c.PROBE_LAST_RUN, "When the probe last finished a run.", "gauge")
    last_success = _family(c.PROBE_LAST_SUCCESS, "When the probe last succeeded.", "gauge")
    revenue = _family(
        c.PROBE_REVENUE_AT_RISK, "Configured revenue at stake when this probe fails.", "gauge"
    )
    status = _family(c.PROBE_HTTP_STATUS_CODE, "HTTP status of the last response.", "gauge")
    step_success = _family(
        c.PROBE_STEP_SUCCESS, "Whether a step of the last run succeeded.", "gauge"
    )
    step_duration = _family(c.PROBE_STEP_DURATION, "Duration of a step of the last run.", "gauge")

    for state in states:
        labels = state.target.static_labels()
        result = state.last_result
        if result is not None:
            success.add_sample(c.PROBE_SUCCESS, labels, float(result.success))
        _add_histogram(duration, c.PROBE_DURATION, labels, state.durations)
        for reason, count in state.runs.items():
            runs.add_sample(c.PROBE_RUNS + "_total", {**labels, c.LABEL_RESULT: reason}, count)
        failures.add_sample(c.PROBE_CONSECUTIVE_FAILURES, labels, state.consecutive_failures)
        successes.add_sample(c.PROBE_CONSECUTIVE_SUCCESSES, labels, state.consecutive_successes)
        failing.add_sample(c.PROBE_FAILING, labels, float(state.failing))
        if state.last_run is not None:
            last_run.add_sample(c.PROBE_LAST_RUN, labels, state.last_run)
        if state.last_success is not None:
            last_success.add_sample(c.PROBE_LAST_SUCCESS, labels, state.last_success)
        money = state.target.revenue_at_risk
        if money is not None:
            revenue.add_sample(
                c.PROBE_REVENUE_AT_RISK, {**labels, c.LABEL_CURRENCY: money.currency}, money.amount
            )
        if result is not None and result.http_status_code is not None:
            status.add_sample(c.PROBE_HTTP_STATUS_CODE, labels, result.http_status_code)
        for step in result.steps if result is not None else ():
            step_labels = {**labels, c.LABEL_STEP: step.name}
            step_success.add_sample(c.PROBE_STEP_SUCCESS, step_labels, float(step.success))
            step_duration.add_sample(c.PROBE_STEP_DURATION, step_labels, step.duration_seconds)

    families = (success, duration, runs, failures, successes, failing, last_run, last_success)
    yield from _non_empty((*families, revenue, status, step_success, step_duration))


def _self_families(runtime: Runtime) -> Iterator[Metric]:
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
    _add_histogram(lag, c.SCHEDULER_LAG, {}, scheduler.lag)
    yield lag
    missed = _family(
        c.MISSED_RUNS, "Runs skipped because the previous one overran its interval.", "counter"
    )
    missed.add_sample(c.MISSED_RUNS + "_total", {}, scheduler.missed_runs)
    yield missed


def _gauge(name: str, doc: str, value: float) -> Metric:
    family = _family(name, doc, "gauge")
    family.add_sample(name, {}, value)
    return family


def _add_histogram(family: Metric, name: str, labels: dict[str, str], hist: Histogram) -> None:
    for bound, count in hist.cumulative():
        le = "+Inf" if bound == float("inf") else repr(bound)
        family.add_sample(name + "_bucket", {**labels, "le": le}, count)
    family.add_sample(name + "_count", labels, hist.count)
    family.add_sample(name + "_sum", labels, hist.total)


def _non_empty(families: Iterable[Metric]) -> Iterator[Metric]:
    return (f for f in families if f.samples)
