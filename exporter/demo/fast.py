"""`demo --fast`: every timing on the way from a fault to a notification, divided by one factor.

Probe intervals, escalation times (the `for` of escalation levels) and Alertmanager's
group_wait, group_interval and repeat_interval, at the root and on every route the config
declares: a route that kept its reference timing would hold a notification for minutes while
the rest of the chain takes seconds (a Zebra route inheriting group_interval 5m held a new
ZebraAdminFailure that long whenever its group was still alive from an earlier fault).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from exporter.config import Config, Target

# The demo's Prometheus looks every 5 s, not the generated 15 s: a fault is seen sooner.
DEMO_SECONDS = 5.0
DEMO_INTERVAL = f"{DEMO_SECONDS:g}s"
FAST_FACTOR = 10
# Alertmanager's timings, wherever the routing config sets them.
ROUTE_TIMINGS = ("group_wait", "group_interval", "repeat_interval")

M = TypeVar("M", bound=BaseModel)


def speed_up(config: Config, factor: float, floor: float = DEMO_SECONDS) -> Config:
    """`config` with probe intervals, escalation times and Alertmanager timings divided by
    `factor`, no probe interval below `floor` (by default the demo's scrape interval:
    Prometheus would miss faster runs).

    A timeout keeps its value unless it would outlast the new interval. Thresholds, recovery
    SLAs and max_duration keep theirs.
    """

    def faster(target: Target) -> Target:
        interval = max(target.interval / factor, min(target.interval, floor))
        return target.model_copy(
            update={"interval": interval, "timeout": min(target.timeout, interval)}
        )

    alerts = {
        name: a.model_copy(update={"escalation_time": a.escalation_time / factor})
        if a.escalation_time is not None
        else a
        for name, a in config.alerts.items()
    }
    update: dict[str, Any] = {"targets": [faster(t) for t in config.targets], "alerts": alerts}
    if config.routing is not None:
        update["routing"] = _divide_route_timings(config.routing, factor)
    return config.model_copy(update=update)


def _divide_route_timings(model: M, factor: float) -> M:
    """`model` with every ROUTE_TIMINGS field divided, in it and in every model it holds."""
    update: dict[str, object] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if name in ROUTE_TIMINGS and isinstance(value, int | float):
            update[name] = value / factor
        elif (divided := _divided(value, factor)) is not value:
            update[name] = divided
    return model.model_copy(update=update) if update else model


def _divided(value: object, factor: float) -> object:
    if isinstance(value, BaseModel):
        return _divide_route_timings(value, factor)
    if isinstance(value, dict):
        items = {key: _divided(item, factor) for key, item in value.items()}
        changed = any(items[key] is not item for key, item in value.items())
        return items if changed else value
    if isinstance(value, list):
        listed = [_divided(item, factor) for item in value]
        changed = any(new is not old for new, old in zip(listed, value, strict=True))
        return listed if changed else value
    return value
