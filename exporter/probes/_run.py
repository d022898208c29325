"""What the database probes share about one run: timed steps and a trace."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from exporter.probes._mask import excerpt
from exporter.probes.result import ProbeResult, StepResult, Trace


class Run:
    """One run's steps and trace (masked by `_mask.masking`, as every kind's).

    Every step in `planned` is reported, those that did not run as failed, so that the step
    series of a target neither come nor go (the scheduler does the same for a run it cuts off).
    """

    def __init__(self, trace: Trace | None, planned: list[str]) -> None:
        self.trace, self.planned = trace, planned
        self.steps: list[StepResult] = []
        self.phase = ""
        self.started = time.perf_counter()

    def note(self, line: str) -> None:
        if self.trace:
            self.trace.add(line)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block as step `name`; it failed if the block raised."""
        self.phase, started, ok = name, time.perf_counter(), False
        try:
            yield
            ok = True
        finally:
            self.steps.append(StepResult(name, ok, time.perf_counter() - started))

    def finish(self, result: ProbeResult) -> ProbeResult:
        """The result with its steps; the verdict goes to the trace."""
        ran = {step.name for step in self.steps}
        result.steps = self.steps + [
            StepResult(n, False, 0.0) for n in self.planned if n not in ran
        ]
        outcome = "success" if result.success else f"failure ({result.reason}): {result.detail}"
        self.note(f"verdict: {outcome}, {ms(self.started)} in all")
        return result


class Failure(Exception):
    """A failed check on its way out of the call stack, with its reason known."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def ms(since: float) -> str:
    return f"{(time.perf_counter() - since) * 1000:.1f}ms"


def short(text: str, limit: int = 80) -> str:
    """`text` masked, on one line, cut to `limit` characters, for quoting queries and values."""
    return excerpt(text, limit)
