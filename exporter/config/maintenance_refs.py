"""Checks of the maintenance windows against the rest of the config: what they name exists."""

from __future__ import annotations

from exporter.config.maintenance import INTERVAL_PREFIX
from exporter.config.model import Config
from exporter.config.references import Report, undefined


def check_maintenance(config: Config, report: Report) -> None:
    """Each window names a tenant and a service that targets have, and the name of its
    Alertmanager time interval is not one the routing section defines."""
    scopes = {(t.tenant, t.service) for t in config.targets}
    tenants = set(config.tenants) or {t for t, _ in scopes if t}
    intervals = config.routing.time_intervals if config.routing else {}
    for name, window in config.maintenance.items():
        here = ("maintenance", name)
        if window.tenant and window.tenant not in tenants:
            report((*here, "tenant"), undefined(window.tenant, "tenants", tenants))
        elif window.service and not any(window.covers(t, s) for t, s in scopes):
            services = {s for t, s in scopes if not window.tenant or t == window.tenant}
            of = f"the services of tenant {window.tenant}" if window.tenant else "services"
            report((*here, "service"), undefined(window.service, of, services))
        if INTERVAL_PREFIX + name in intervals:
            report(
                here,
                f"its Alertmanager time interval {INTERVAL_PREFIX + name!r} is also defined in "
                "routing.time_intervals: rename one of them",
            )
