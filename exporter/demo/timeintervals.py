"""Whether a moment lies in one of the config's time intervals, as Alertmanager decides it.

Alertmanager 0.25 says nothing through its API when a route's mute or active time interval
holds a notification back (0.28 added that); the demo works it out from the same config.
The rules are Alertmanager's: every field an entry gives must hold, an entry without fields
always holds; ranges are inclusive; a time range includes its start minute and excludes its
end; negative days of the month count from its end; the location (UTC by default) is where
the clock is read.
"""

from __future__ import annotations

import calendar
import zoneinfo
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from exporter.config.alerting import TimeInterval

_WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_MONTHS = tuple(name.lower() for name in calendar.month_name)  # "" first: months count from 1


def in_any(intervals: Sequence[TimeInterval], when: datetime) -> bool:
    """True when `when` lies in one of the entries of a named time interval."""
    return any(contains(interval, when) for interval in intervals)


def contains(interval: TimeInterval, when: datetime) -> bool:
    """True when `when` (timezone-aware) lies in this entry."""
    local = when.astimezone(zoneinfo.ZoneInfo(interval.location) if interval.location else UTC)
    minute = local.hour * 60 + local.minute
    weekday = (local.weekday() + 1) % 7  # Python counts from Monday, Alertmanager from Sunday
    days_in_month = calendar.monthrange(local.year, local.month)[1]
    return (
        _any_or_none(
            [_minutes(t.start_time) <= minute < _minutes(t.end_time) for t in interval.times]
        )
        and _any_or_none([_in(weekday, r, _weekday) for r in interval.weekdays])
        and _any_or_none([_in(local.day, r, _day(days_in_month)) for r in interval.days_of_month])
        and _any_or_none([_in(local.month, r, _month) for r in interval.months])
        and _any_or_none([_in(local.year, r, int) for r in interval.years])
    )


def describe(intervals: Sequence[TimeInterval]) -> str:
    """The entries of a named interval in a few words: "monday:friday 09:00-18:00
    Europe/London"; entries joined by " or "."""
    return " or ".join(_describe(interval) for interval in intervals) or "always"


def _describe(interval: TimeInterval) -> str:
    words = [
        ", ".join(interval.weekdays),
        ", ".join(f"{t.start_time}-{t.end_time}" for t in interval.times),
        ", ".join(interval.days_of_month) and f"days {', '.join(interval.days_of_month)}",
        ", ".join(interval.months),
        ", ".join(interval.years),
        interval.location or "UTC",
    ]
    return " ".join(word for word in words if word)


def _any_or_none(results: list[bool]) -> bool:
    return not results or any(results)


def _in(value: int, spec: str, parse: Callable[[str], int]) -> bool:
    first, _, last = spec.partition(":")
    return parse(first) <= value <= parse(last or first)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _weekday(name: str) -> int:
    return _WEEKDAYS.index(name.lower())


def _month(name: str) -> int:
    return int(name) if name.isdigit() else _MONTHS.index(name.lower())


def _day(days_in_month: int) -> Callable[[str], int]:
    def day(text: str) -> int:
        number = int(text)
        return number if number > 0 else days_in_month + 1 + number

    return day
