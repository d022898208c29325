"""Time intervals are read as Alertmanager reads them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from exporter.config.alerting import TimeInterval
from exporter.demo.timeintervals import contains, describe, in_any

BUSINESS_HOURS = TimeInterval.model_validate(
    {
        "weekdays": ["monday:friday"],
        "times": [{"start_time": "09:00", "end_time": "18:00"}],
        "location": "Europe/London",
    }
)


@pytest.mark.parametrize(
    ("when", "inside"),
    [
        ("2026-12-07T09:00:00+00:00", True),  # Monday, London is on UTC in December
        ("2026-12-07T08:59:59+00:00", False),
        ("2026-12-07T17:59:00+00:00", True),
        ("2026-12-07T18:00:00+00:00", False),  # the end minute is outside
        ("2026-12-11T12:00:00+00:00", True),  # Friday
        ("2026-12-06T12:00:00+00:00", False),  # Sunday
        ("2026-07-06T08:30:00+00:00", True),  # Monday 09:30 in London's summer time
        ("2026-07-06T17:30:00+00:00", False),  # 18:30 in London
    ],
)
def test_business_hours_in_london(when: str, inside: bool) -> None:
    assert contains(BUSINESS_HOURS, datetime.fromisoformat(when)) is inside


def test_days_of_month_count_from_the_end_when_negative_and_ranges_are_inclusive() -> None:
    last_days = TimeInterval.model_validate({"days_of_month": ["-2:-1"], "months": ["2"]})
    assert contains(last_days, datetime(2028, 2, 28, tzinfo=UTC))  # a leap year: 28 and 29
    assert contains(last_days, datetime(2028, 2, 29, tzinfo=UTC))
    assert not contains(last_days, datetime(2028, 2, 27, tzinfo=UTC))
    assert not contains(last_days, datetime(2028, 3, 31, tzinfo=UTC))
    years = TimeInterval.model_validate({"years": ["2026:2027"], "months": ["march:may"]})
    assert contains(years, datetime(2027, 5, 31, 23, 59, tzinfo=UTC))
    assert not contains(years, datetime(2028, 4, 1, tzinfo=UTC))


def test_a_named_interval_holds_when_any_entry_does_and_an_empty_entry_always() -> None:
    sunday = TimeInterval.model_validate({"weekdays": ["sunday"]})
    monday = datetime(2026, 12, 7, 12, tzinfo=UTC)
    assert not in_any([sunday], monday)
    assert in_any([sunday, BUSINESS_HOURS], monday)
    assert in_any([TimeInterval()], monday)
    assert describe([BUSINESS_HOURS]) == "monday:friday 09:00-18:00 Europe/London"
