"""The period of a report: its dates, the buckets of its charts, and the stretches to query.

A report queries Prometheus once per stretch of time: the period cut at every chart bucket
boundary and at every start and end of a maintenance window. Each stretch is then wholly
inside or wholly outside each window, and wholly inside one bucket, so one set of increases
serves the totals, the chart and the exclusion of every window.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from exporter.config.timeintervals import Span

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


class PeriodError(ValueError):
    """A --from or --to that is not a date, or a period that is empty."""


def parse_instant(text: str, flag: str) -> datetime:
    """A date (midnight UTC) or a date and time with a UTC offset (or none: UTC)."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        when = datetime.fromisoformat(text)
    except ValueError:
        raise PeriodError(
            f"{flag} {text!r} is not a date such as 2026-11-01 or 2026-11-01T09:00:00Z"
        ) from None
    when = when.replace(microsecond=0)  # ranges are whole seconds
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end): the report covers `start` up to, not including, `end`."""

    start: datetime
    end: datetime

    @classmethod
    def parse(cls, start: str, end: str) -> Period:
        period = cls(parse_instant(start, "--from"), parse_instant(end, "--to"))
        if period.start >= period.end:
            raise PeriodError(f"--from ({start}) must be before --to ({end})")
        return period

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def buckets(self) -> list[Span]:
        """The chart's bars: days, or hours for a period under two days, weeks over 92 days."""
        size = HOUR if self.seconds < 2 * 86400 else DAY
        if self.seconds > 92 * 86400:
            size = 7 * DAY
        first = self.start.replace(minute=0, second=0, microsecond=0)
        if size != HOUR:
            first = first.replace(hour=0)
        out, at = [], first
        while at < self.end:
            out.append((max(at, self.start), min(at + size, self.end)))
            at += size
        return out

    def stretches(self, cuts: list[Span]) -> list[Span]:
        """The period cut at every bucket boundary and every edge of the given spans."""
        edges = {self.start, self.end}
        edges |= {edge for bucket in self.buckets() for edge in bucket}
        edges |= {edge for span in cuts for edge in span if self.start < edge < self.end}
        ordered = sorted(edges)
        return list(itertools.pairwise(ordered))


def inside(stretch: Span, spans: list[Span]) -> bool:
    """Whether a stretch (never cut by a span's edge) lies within one of the spans."""
    return any(s <= stretch[0] and stretch[1] <= e for s, e in spans)
