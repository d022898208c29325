"""Renders the scheduler's state table as metric families at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from exporter.families import PROBE_FAMILIES, extra_labels
from exporter.own_series import maintenance_families, self_families
from exporter.runtime import Runtime
from exporter.state import TargetState


class ProbeCollector(Collector):
    """Yields every probe series and the exporter's own from one pass over the state table."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        states = list(self.runtime.scheduler.states.values())
        yield from probe_families(states)
        yield from maintenance_families(self.runtime)
        yield from self_families(self.runtime)


def build_registry(runtime: Runtime) -> CollectorRegistry:
    """An explicit registry holding only this exporter's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ProbeCollector(runtime))
    return registry


def probe_families(states: list[TargetState]) -> Iterator[Metric]:
    """Every probe family with samples, from the shared table in exporter.families."""
    for family in PROBE_FAMILIES:
        metric = Metric(family.name, family.doc, family.type)
        for state in states:
            labels = state.about.static_labels()
            for name, extra, extra_value, value in family.samples(state):
                extras = extra_labels(extra, extra_value)
                metric.add_sample(name, {**labels, **extras} if extras else labels, value)
        if metric.samples:
            yield metric
