"""The time a run has: the caller's own timeout, told to the probe that runs inside it."""

from __future__ import annotations

import contextvars
import time
from types import TracebackType

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)


class time_budget:  # lower case, as the function it replaced: `with time_budget(seconds):`
    """Let the probe run inside know it has `seconds`: the caller's own timeout, told.

    A probe whose server can stop work on its own (a statement timeout) asks
    `remaining_budget()`, so the server does not go on after the caller has given up.

    A class rather than @contextlib.contextmanager: it is entered at every run, and a
    generator-based manager costs a generator, a wrapper and two resumptions each time.
    """

    __slots__ = ("_entered", "_seconds")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._entered: contextvars.Token[float | None] | None = None

    def __enter__(self) -> None:
        self._entered = _deadline.set(time.monotonic() + self._seconds)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._entered is not None
        _deadline.reset(self._entered)


def remaining_budget() -> float | None:
    """Seconds left of the run's budget; None when the caller set none."""
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())
