"""Probe kinds: one module per kind, one `probe(spec, trace)` entry point each."""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from exporter.conventions import RESULT_SUCCESS


class Trace:
    """Step-by-step account of one run, shown by `/probe?debug=true` and `probe` on the CLI.

    Scheduled runs pass no trace, so probes guard every entry with `if trace:` and pay
    nothing for it.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __bool__(self) -> bool:
        return True

    def add(self, line: str) -> None:
        self.lines.append(line)


@dataclass(slots=True)
class StepResult:
    """One step of a multi-step probe."""

    name: str
    success: bool
    duration_seconds: float


@dataclass(frozen=True, slots=True)
class Seen:
    """What a run's last response came over, for the info and certificate metrics."""

    http_version: str  # "HTTP/1.1"
    tls_version: str = ""  # "TLS 1.3"; "" over plain HTTP
    cert_expiry: float | None = None  # the earliest notAfter presented in the run, Unix time


@dataclass(slots=True)
class ProbeResult:
    """What one run of a probe found. A down target is a value, never an exception."""

    success: bool
    reason: str = RESULT_SUCCESS
    detail: str = ""
    http_status_code: int | None = None
    steps: list[StepResult] = field(default_factory=list)
    seen: Seen | None = None  # None when no response arrived

    @classmethod
    def ok(cls, **kwargs: Any) -> ProbeResult:
        return cls(success=True, **kwargs)

    @classmethod
    def failed(cls, reason: str, detail: str, **kwargs: Any) -> ProbeResult:
        return cls(success=False, reason=reason, detail=detail, **kwargs)


ProbeFunction = Callable[[Any, Trace | None], Awaitable[ProbeResult]]

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


def _registry() -> dict[str, ProbeFunction]:
    # Imported here: the kind modules import ProbeResult and Trace from this package.
    from exporter.probes import http, openapi, postgres, redis, steps, tcp

    return {
        "http": http.probe,
        "openapi": openapi.probe,
        "steps": steps.probe,
        "tcp": tcp.probe,
        "postgres": postgres.probe,
        "redis": redis.probe,
    }


PROBES: dict[str, ProbeFunction] = _registry()
