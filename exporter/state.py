"""Per-target state: the hysteresis of the seeds' alert_active, counters, a histogram and the
ring of recent runs the pages draw."""

from __future__ import annotations

import bisect
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from exporter.config import Target
from exporter.conventions import (
    DURATION_BUCKETS,
    REASON_ERROR,
    RESULT_SUCCESS,
    RESULTS,
    is_violation,
)
from exporter.probes import ProbeResult

# Runs a target's ring keeps: an hour of a 1m target, half an hour of a 30s one.
HISTORY_RUNS = 60
# A run as 5 bytes: when it ran, in tenths of a second after the ring's first run (unsigned:
# 13 years), and its result's index in RESULTS plus one (0: no run yet). 300 bytes per target
# in one bytearray, where a tuple per run would cost some 20 times that (bench/memory.py).
_RUN = struct.Struct("<IB")
_TICKS = 10  # per second
_MAX_TICK = 2**32 - 1
_CODES = {result: i + 1 for i, result in enumerate(RESULTS)}


class RunRing:
    """The last HISTORY_RUNS runs of a target: when each ran and its result, oldest first."""

    __slots__ = ("_base", "_next", "_records")

    def __init__(self) -> None:
        self._records = bytearray(_RUN.size * HISTORY_RUNS)
        self._next = 0  # the slot the next run takes; it holds the oldest run once full
        self._base: float | None = None  # the Unix time of the first run: tick 0

    def add(self, when: float, result: str) -> None:
        if self._base is None:
            self._base = when
        tick = min(_MAX_TICK, max(0, round((when - self._base) * _TICKS)))
        code = _CODES.get(result, _CODES[REASON_ERROR])
        _RUN.pack_into(self._records, self._next * _RUN.size, tick, code)
        self._next = (self._next + 1) % HISTORY_RUNS

    def __iter__(self) -> Iterator[tuple[float, str]]:
        """(Unix time, to a tenth of a second, and result) of each run held, oldest first."""
        base = self._base or 0.0
        for slot in range(HISTORY_RUNS):
            tick, code = _RUN.unpack_from(
                self._records, (self._next + slot) % HISTORY_RUNS * _RUN.size
            )
            if code:
                yield base + tick / _TICKS, RESULTS[code - 1]


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
    last_failed_result: ProbeResult | None = None  # the last result itself while failing
    last_duration: float = 0.0
    runs: dict[str, int] = field(default_factory=lambda: {RESULT_SUCCESS: 0})
    durations: Histogram = field(default_factory=lambda: Histogram(DURATION_BUCKETS))
    history: RunRing = field(default_factory=RunRing)

    def record(self, result: ProbeResult, duration: float, now: float) -> bool:
        """Fold one run in; return True when `failing` changed."""
        self.last_run, self.last_result, self.last_duration = now, result, duration
        self.runs[result.reason] = self.runs.get(result.reason, 0) + 1
        self.durations.observe(duration)
        self.history.add(now, result.reason)
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
            self.last_failure, self.last_failed_result = now, result
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
