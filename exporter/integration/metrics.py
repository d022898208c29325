"""The integration's series on the app's registry, rendered from AppHealth at scrape time."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from exporter import conventions as c
from exporter.integration.routes import is_registered

if TYPE_CHECKING:
    from exporter.integration.health import AppHealth

# The collector each registry holds: an app built twice in one process (tests, factories,
# reloads) replaces its series instead of clashing with the first one's.
_REGISTERED: weakref.WeakKeyDictionary[CollectorRegistry, Collector] = weakref.WeakKeyDictionary()


def register(health: AppHealth, registry: CollectorRegistry) -> None:
    previous = _REGISTERED.pop(registry, None)
    if previous is not None:
        registry.unregister(previous)
    collector = AppCollector(health)
    registry.register(collector)
    _REGISTERED[registry] = collector


class AppCollector(Collector):
    """Readiness, startup results, required routes (read live) and dependency checks."""

    def __init__(self, health: AppHealth) -> None:
        self.health = health

    def describe(self) -> Iterator[Metric]:
        """The families, without samples: registering must not read the app yet."""
        yield _ready()
        yield _startup()
        yield _routes()
        yield from _dependencies()

    def collect(self) -> Iterator[Metric]:
        health = self.health
        registered = health.registered()  # read once per scrape
        ready = _ready()
        ready.add_metric([], 1.0 if health.readiness(registered).ready else 0.0)
        startup = _startup()
        for name, result in (health.startup or {}).items():
            labels = [name, health.kind(name), health.policy(name)]
            startup.add_metric(labels, 1.0 if result.ok else 0.0)
        routes = _routes()
        for route in health.routes:
            value = 1.0 if is_registered(route, registered) else 0.0
            routes.add_metric([route.route, route.policy], value)
        up, duration, runs = _dependencies()
        for check in health.checks:
            last = health.latest.get(check.name)
            if last is not None:
                critical = "true" if check.critical else "false"
                up.add_metric([check.name, check.kind, critical], 1.0 if last.ok else 0.0)
                duration.add_metric([check.name, check.kind], last.duration_seconds)
        for (name, reason), count in sorted(health.runs.items()):
            runs.add_metric([name, health.kind(name), reason], float(count))
        yield from (ready, startup, routes, up, duration, runs)


def _ready() -> GaugeMetricFamily:
    return GaugeMetricFamily(c.APP_READY, "1 when the app is ready to take traffic.")


def _startup() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        c.APP_STARTUP_CHECK,
        "Result of each startup check (a required route or a dependency), 1 passed.",
        labels=[c.LABEL_CHECK, c.LABEL_KIND, c.LABEL_POLICY],
    )


def _routes() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        c.APP_ROUTE_REGISTERED,
        "1 while the required route is registered in the app.",
        labels=[c.LABEL_ROUTE, c.LABEL_POLICY],
    )


def _dependencies() -> tuple[GaugeMetricFamily, GaugeMetricFamily, CounterMetricFamily]:
    check, kind = c.LABEL_CHECK, c.LABEL_KIND
    return (
        GaugeMetricFamily(
            c.APP_DEPENDENCY_UP,
            "Result of the dependency's last check, 1 passed.",
            labels=[check, kind, c.LABEL_CRITICAL],
        ),
        GaugeMetricFamily(
            c.APP_DEPENDENCY_DURATION,
            "Duration of the dependency's last check.",
            labels=[check, kind],
        ),
        CounterMetricFamily(
            c.APP_DEPENDENCY_CHECKS,
            "Dependency checks run, by result: success or a failure reason.",
            labels=[check, kind, c.LABEL_RESULT],
        ),
    )
