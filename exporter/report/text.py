"""Figures as people read them, shared by the Markdown and HTML reports."""

from __future__ import annotations

from datetime import UTC, datetime


def percent(value: float | None, digits: int = 3) -> str:
    return "no data" if value is None else f"{value * 100:.{digits}f}%"


def verdict(compliant: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "no objective"}[compliant]


def duration(seconds: float) -> str:
    """3725 -> 1h 2m 5s."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return " ".join(parts + ([f"{secs}s"] if secs or not parts else []))


def when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def seconds_text(value: float | None) -> str:
    return "no data" if value is None else f"{value * 1000:.0f} ms"
