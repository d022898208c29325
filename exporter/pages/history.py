"""A target's recent runs as segments: consecutive runs alike drawn as one stretch of a strip.

A healthy target's sixty runs are one segment, so the strip of a page of thousands of targets
stays small; a failing one breaks where the result or the maintenance changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from exporter.config.maintenance import excluded_spans
from exporter.config.model import Config
from exporter.conventions import REASON_OUTCOMES, RESULT_SUCCESS
from exporter.state import HISTORY_RUNS, RunRing

NO_RUN = ""  # the result of the padding before a ring's first run


@dataclass(frozen=True, slots=True)
class Segment:
    """Runs in a row with one result, all inside or all outside maintenance."""

    result: str  # success, a failure reason, or NO_RUN
    runs: int
    start: float  # Unix times of the first run and the last (0 for NO_RUN)
    end: float
    maintenance: bool = False

    @property
    def outcome(self) -> str:
        """success, violation or unverified (conventions.REASON_OUTCOMES); none before a run."""
        if self.result == NO_RUN:
            return "none"
        return RESULT_SUCCESS if self.result == RESULT_SUCCESS else REASON_OUTCOMES[self.result]


Spans = Sequence[tuple[float, float]]  # [start, end) in Unix seconds


def segments(ring: RunRing, maintenance: Spans = ()) -> list[Segment]:
    """A ring's runs as segments, padded in front to HISTORY_RUNS with a NO_RUN one, so that
    every strip is as long and ends now. A run inside a `maintenance` span is marked."""
    if maintenance:
        out = _marked(ring.runs(), maintenance)
    else:  # the usual case, found by the ring in C: a segment for each stretch
        out = [Segment(result, runs, start, end) for result, runs, start, end in ring.stretches()]
    held = sum(s.runs for s in out)
    if held < HISTORY_RUNS:
        out.insert(0, Segment(NO_RUN, HISTORY_RUNS - held, 0, 0))
    return out


def _marked(runs: Iterable[tuple[float, str]], maintenance: Spans) -> list[Segment]:
    out: list[Segment] = []
    for when, result in runs:
        inside = any(start <= when < end for start, end in maintenance)
        last = out[-1] if out else None
        if last is not None and last.result == result and last.maintenance == inside:
            out[-1] = Segment(result, last.runs + 1, last.start, when, inside)
        else:
            out.append(Segment(result, 1, when, when, inside))
    return out


def maintenance_spans(
    config: Config, tenant: str, service: str, longest_interval: float, now: float
) -> list[tuple[float, float]]:
    """The stretches of the time a ring may cover that a window held for a tenant's service."""
    end = datetime.fromtimestamp(now, UTC) + timedelta(minutes=1)
    start = end - timedelta(seconds=longest_interval * HISTORY_RUNS + 120)
    return [
        (s.timestamp(), e.timestamp())
        for s, e in excluded_spans(config, tenant, service, start, end)
    ]


def failed_runs(history: Iterable[Segment]) -> int:
    return sum(s.runs for s in history if s.result not in (NO_RUN, RESULT_SUCCESS))


def runs_held(history: Iterable[Segment]) -> int:
    return sum(s.runs for s in history if s.result != NO_RUN)
