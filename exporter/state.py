"""Per-target state: the hysteresis of the seeds' alert_active, counters and a histogram."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from exporter.config import Target
from exporter.conventions import DURATION_BUCKETS, RESULT_SUCCESS, is_violation
from exporter.probes import ProbeResult, Seen


@dataclass(slots=True)
class Histogram:
    """Cumulative-on-render bucket counts, a sum and a count."""

    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.bounds)

    def observe(self, value: float) -> None:
        index = bisect.bisect_left(self.bounds, value)
        if index < len(self.counts):
            self.counts[index] += 1
        self.total += value
        self.count += 1

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, cumulative count) per bucket, +Inf last."""
        out, running = [], 0
        for bound, n in zip(self.bounds, self.counts, strict=True):
            running += n
            out.append((bound, running))
        out.append((float("inf"), self.count))
        return out


@dataclass(slots=True)
class TargetState:
    """Everything the exporter knows about one target between scrapes."""

    target: Target
    consecutive_failures: int = 0
    consecutive_successes: int = 0
    failing: bool = False
    # A failed run since the target was last healthy found a violation (conventions.py):
    # held through later runs that could not check, until failing ends.
    violation_seen: bool = False
    last_run: float | None = None
    last_success: float | None = None
    last_failure: float | None = None
    last_result: ProbeResult | None = None
    last_duration: float = 0.0
    seen: Seen | None = None  # of the last run that got a response: kept through runs that did not
    runs: dict[str, int] = field(default_factory=lambda: {RESULT_SUCCESS: 0})
    durations: Histogram = field(default_factory=lambda: Histogram(DURATION_BUCKETS))

    def record(self, result: ProbeResult, duration: float, now: float) -> bool:
        """Fold one run in; return True when `failing` changed."""
        self.last_run, self.last_result, self.last_duration = now, result, duration
        if result.seen is not None:
            self.seen = result.seen
        self.runs[result.reason] = self.runs.get(result.reason, 0) + 1
        self.durations.observe(duration)
        was_failing = self.failing
        if result.success:
            self.last_success = now
            self.consecutive_failures = 0
            self.consecutive_successes += 1
            if self.consecutive_successes >= self.target.success_threshold:
                self.failing = False
            if not self.failing:
                self.violation_seen = False
        else:
            self.violation_seen = self.violation_seen or is_violation(result.reason)
            self.last_failure = now
            self.consecutive_successes = 0
            self.consecutive_failures += 1
            if self.consecutive_failures >= self.target.failure_threshold:
                self.failing = True
        return self.failing != was_failing

    @property
    def verified(self) -> bool | None:
        """Whether the last run's check ran to a verdict (passed or found a violation); None
        before the first run."""
        result = self.last_result
        if result is None:
            return None
        return result.success or is_violation(result.reason)

    @property
    def violation(self) -> bool:
        """Failing, and a run of this failure found a violation: the problem is known to be real."""
        return self.failing and self.violation_seen
