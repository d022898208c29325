"""Alertmanager's time_interval semantics in Python: whether an instant falls in one, and when.

The exporter, the report and the pages must agree with Alertmanager on when a recurring
maintenance window holds, so this follows Alertmanager 0.25's `timeinterval` package: the
instant is read in the interval's location (UTC by default); `times` start inclusive and end
exclusive, to the minute; weekdays, days of the month (negative from the month's end, clamped
to it), months and years are inclusive ranges; a field left empty always holds.
"""

from __future__ import annotations

import calendar
import zoneinfo
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

from exporter.config.alerting import MONTHS, WEEKDAYS, TimeInterval

Span = tuple[datetime, datetime]  # [start, end), aware datetimes


def contains(interval: TimeInterval, when: datetime) -> bool:
    """Whether Alertmanager would say `when` is inside the interval."""
    local = when.astimezone(_zone(interval))
    minute = local.hour * 60 + local.minute
    if interval.times and not any(s <= minute < e for s, e in _minutes(interval)):
        return False
    return _day_holds(interval, local.date())


def spans(interval: TimeInterval, start: datetime, end: datetime) -> list[Span]:
    """The stretches of [start, end) inside the interval, in UTC, in order, merged."""
    zone = _zone(interval)
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    found: list[Span] = []
    day = first
    while day <= last:
        if _day_holds(interval, day):
            for s, e in _minutes(interval) if interval.times else [(0, 1440)]:
                found.append((_at(day, s, zone), _at(day, e, zone)))
        day += timedelta(days=1)
    clipped = [(max(s, start), min(e, end)) for s, e in found]
    return merge([(s, e) for s, e in clipped if s < e])


def merge(found: list[Span]) -> list[Span]:
    """Overlapping or touching spans as one, in order."""
    out: list[Span] = []
    for s, e in sorted(found):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _zone(interval: TimeInterval) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(interval.location or "UTC")


def _at(day: date, minute: int, zone: zoneinfo.ZoneInfo) -> datetime:
    local = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(minutes=minute)
    # Wall-clock arithmetic: 02:00 on a day of a clock change is still 02:00 local time.
    local = local.replace(tzinfo=None).replace(tzinfo=zone)
    return local.astimezone(UTC)


def _minutes(interval: TimeInterval) -> Iterator[tuple[int, int]]:
    for t in interval.times:
        yield _minute(t.start_time), _minute(t.end_time)


def _minute(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _day_holds(interval: TimeInterval, day: date) -> bool:
    checks = (
        (interval.weekdays, (day.weekday() + 1) % 7, _weekday),  # sunday is 0, as in Go
        (interval.months, day.month, _month),
        (interval.years, day.year, int),
    )
    for ranges, value, parse in checks:
        if ranges and not any(a <= value <= b for a, b in _ranges(ranges, parse)):
            return False
    return not interval.days_of_month or _day_of_month_holds(interval.days_of_month, day)


def _day_of_month_holds(ranges: list[str], day: date) -> bool:
    length = calendar.monthrange(day.year, day.month)[1]
    for begin, end in _ranges(ranges, int):
        begin = length + begin + 1 if begin < 0 else begin
        end = length + end + 1 if end < 0 else end
        if begin > length:
            continue
        if begin <= day.day <= min(end, length):
            return True
    return False


def _ranges(values: list[str], parse: Callable[[str], int]) -> Iterator[tuple[int, int]]:
    for value in values:
        # "-5:-1" splits on the colon only: a negative day keeps its sign.
        ends = value.split(":")
        yield parse(ends[0]), parse(ends[-1])


def _weekday(name: str) -> int:
    return WEEKDAYS.index(name.lower())


def _month(name: str) -> int:
    return int(name) if name.isdigit() else MONTHS.index(name.lower()) + 1
