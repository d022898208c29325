"""Maintenance windows: planned work during which a tenant's or a service's failures page nobody
and cost no error budget.

A window is declared once, under `maintenance:`, and read by every part: `generate` mutes the
matching Alertmanager routes and leaves the window's runs out of the SLI rules, the exporter
exposes which windows are active (`business_maintenance_window_active`), the SLA report leaves
their time out, and the pages show them (`windows_of`, `active_windows`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Protocol

from pydantic import BeforeValidator, Field, model_validator

from exporter.config.alerting import TimeInterval
from exporter.config.timeintervals import Span, contains, merge, spans
from exporter.config.types import StrictModel

# The Alertmanager time interval of a window is named with this prefix and the window's name.
INTERVAL_PREFIX = "maintenance_"


def _instant(value: object) -> datetime:
    example = "such as 2026-12-13T22:00:00Z or 2026-12-13T23:00:00+01:00"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"must be a date and time {example}, not {value!r}") from None
    if not isinstance(value, datetime):
        raise ValueError(f"must be a date and time {example}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"needs a UTC offset (Z or +01:00), {example}")
    if value.second or value.microsecond:
        raise ValueError("must be a whole minute: Alertmanager mutes by the minute")
    return value.astimezone(UTC)


Instant = Annotated[datetime, BeforeValidator(_instant)]


class MaintenanceWindow(StrictModel):
    """Planned work on a tenant, a service, or one service of one tenant (neither: everything).

    One-off: `start` and `end`. Recurring: `recurring`, Alertmanager's time_interval entries
    (the window holds while any entry does).
    """

    description: str = ""
    tenant: str = ""
    service: str = ""
    start: Instant | None = None
    end: Instant | None = None
    recurring: list[TimeInterval] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_form(self) -> MaintenanceWindow:
        one_off = self.start is not None or self.end is not None
        if one_off == bool(self.recurring):
            raise ValueError("needs either start and end (one-off) or recurring, not both")
        if one_off and (self.start is None or self.end is None):
            raise ValueError("a one-off window needs both start and end")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError("start must be before end")
        return self

    def covers(self, tenant: str, service: str) -> bool:
        """Whether a target of this tenant and service is under this window."""
        return (not self.tenant or self.tenant == tenant) and (
            not self.service or self.service == service
        )

    def active_at(self, when: datetime) -> bool:
        if self.start is not None and self.end is not None:
            return self.start <= when < self.end
        return any(contains(interval, when) for interval in self.recurring)

    def spans(self, start: datetime, end: datetime) -> list[Span]:
        """The stretches of [start, end) the window holds, in UTC, merged."""
        if self.start is not None and self.end is not None:
            s, e = max(self.start, start), min(self.end, end)
            return [(s, e)] if s < e else []
        return merge([span for i in self.recurring for span in spans(i, start, end)])


class _Scoped(Protocol):
    """What the helpers below need of a config: a Config."""

    @property
    def maintenance(self) -> dict[str, MaintenanceWindow]: ...


def windows_of(config: _Scoped, tenant: str, service: str) -> list[str]:
    """The names of the windows that cover a tenant's service, active or not."""
    return [name for name, w in config.maintenance.items() if w.covers(tenant, service)]


def active_windows(config: _Scoped, tenant: str, service: str, when: datetime) -> list[str]:
    """The names of the windows that hold for a tenant's service at `when`."""
    return [
        name
        for name, w in config.maintenance.items()
        if w.covers(tenant, service) and w.active_at(when)
    ]


def excluded_spans(
    config: _Scoped, tenant: str, service: str, start: datetime, end: datetime
) -> list[Span]:
    """Every stretch of [start, end) that a window covering the tenant's service holds."""
    found = [
        span
        for name in windows_of(config, tenant, service)
        for span in config.maintenance[name].spans(start, end)
    ]
    return merge(found)
