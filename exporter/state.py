"""Per-target state: the hysteresis of the seeds' alert_active, counters, a histogram and the
ring of recent runs the pages draw."""

from __future__ import annotations

import bisect
import re
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from exporter.conventions import (
    DURATION_BUCKETS,
    REASON_ERROR,
    RESULT_SUCCESS,
    RESULTS,
    is_violation,
)
from exporter.plan import TargetAbout, TargetPlan
from exporter.probes import ProbeResult, Seen

# Runs a target's ring keeps: an hour of a 1m target, half an hour of a 30s one.
HISTORY_RUNS = 60
# A run as 5 bytes: when it ran, in tenths of a second after this process began (unsigned:
# 13 years), and its result's index in RESULTS plus one (0: no run yet). A ring is one object
# with its 300 bytes, where a tuple per run would cost some 20 times that (bench/memory.py).
_RUN = struct.Struct("<IB")
_TICKS = 10  # per second
_MAX_TICK = 2**32 - 1
_EPOCH = float(int(time.time()) - 86400)  # tick 0, a whole second a day before the start
_CODES = {result: i + 1 for i, result in enumerate(RESULTS)}
_SAME = re.compile(rb"(.)\1*", re.DOTALL)  # a stretch of one result code


def _time(data: bytes, slot: int) -> float:
    tick: int = _RUN.unpack_from(data, slot * _RUN.size)[0]
    return _EPOCH + tick / _TICKS


class RunRing(bytearray):
    """The last HISTORY_RUNS runs of a target: when each ran and its result, oldest first."""

    __slots__ = ("_next",)

    def __init__(self) -> None:
        super().__init__(_RUN.size * HISTORY_RUNS)
        self._next = 0  # the slot the next run takes; it holds the oldest run once full

    def add(self, when: float, result: str) -> None:
        tick = min(_MAX_TICK, max(0, round((when - _EPOCH) * _TICKS)))
        code = _CODES.get(result, _CODES[REASON_ERROR])
        _RUN.pack_into(self, self._next * _RUN.size, tick, code)
        self._next = (self._next + 1) % HISTORY_RUNS

    def stretches(self) -> Iterator[tuple[str, int, float, float]]:
        """(result, runs, first run's time, last run's time) of each stretch of runs in a row
        with one result, oldest first: one for a target whose runs all passed."""
        cut = self._next * _RUN.size
        data = bytes(self[cut:] + self[:cut])  # oldest first: the empty slots lead
        codes = data[_RUN.size - 1 :: _RUN.size]
        for match in _SAME.finditer(codes, len(codes) - len(codes.lstrip(b"\0"))):
            first, end = match.span()
            yield RESULTS[codes[first] - 1], end - first, _time(data, first), _time(data, end - 1)

    def runs(self) -> Iterator[tuple[float, str]]:
        """(Unix time, to a tenth of a second, and result) of each run held, oldest first."""
        for slot in range(HISTORY_RUNS):
            tick, code = _RUN.unpack_from(self, (self._next + slot) % HISTORY_RUNS * _RUN.size)
            if code:
                yield _EPOCH + tick / _TICKS, RESULTS[code - 1]


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

    plan: TargetPlan
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
    seen: Seen | None = None  # of the last run that got a response: kept through runs that did not
    runs: dict[str, int] = field(default_factory=lambda: {RESULT_SUCCESS: 0})
    durations: Histogram = field(default_factory=lambda: Histogram(DURATION_BUCKETS))
    history: RunRing = field(default_factory=RunRing)

    def record(self, result: ProbeResult, duration: float, now: float) -> bool:
        """Fold one run in; return True when `failing` changed."""
        self.last_run, self.last_result, self.last_duration = now, result, duration
        if result.seen is not None:
            self.seen = result.seen
        self.runs[result.reason] = self.runs.get(result.reason, 0) + 1
        self.durations.observe(duration)
        self.history.add(now, result.reason)
        was_failing = self.failing
        if result.success:
            self.last_success = now
            self.consecutive_failures = 0
            self.consecutive_successes += 1
            if self.consecutive_successes >= self.plan.success_threshold:
                self.failing = False
            if not self.failing:
                self.violation_seen = False
        else:
            self.violation_seen = self.violation_seen or is_violation(result.reason)
            self.last_failure, self.last_failed_result = now, result
            self.consecutive_successes = 0
            self.consecutive_failures += 1
            if self.consecutive_failures >= self.plan.failure_threshold:
                self.failing = True
        return self.failing != was_failing

    @property
    def about(self) -> TargetAbout:
        """What the pages and links show of the target."""
        return self.plan.about

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
