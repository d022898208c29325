"""The time a run has: the caller's own timeout, told to the probe that runs inside it."""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)


@contextlib.contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Let the probe run inside know it has `seconds`: the caller's own timeout, told.

    A probe whose server can stop work on its own (a statement timeout) asks
    `remaining_budget()`, so the server does not go on after the caller has given up.
    """
    entered = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(entered)


def remaining_budget() -> float | None:
    """Seconds left of the run's budget; None when the caller set none."""
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())
