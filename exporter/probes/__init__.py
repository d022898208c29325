"""Probe kinds: one module per kind, one `probe(spec, trace)` entry point each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


@dataclass(slots=True)
class ProbeResult:
    """What one run of a probe found. A down target is a value, never an exception."""

    success: bool
    reason: str = RESULT_SUCCESS
    detail: str = ""
    http_status_code: int | None = None
    steps: list[StepResult] = field(default_factory=list)

    @classmethod
    def ok(cls, **kwargs: Any) -> ProbeResult:
        return cls(success=True, **kwargs)

    @classmethod
    def failed(cls, reason: str, detail: str, **kwargs: Any) -> ProbeResult:
        return cls(success=False, reason=reason, detail=detail, **kwargs)


ProbeFunction = Callable[[Any, Trace | None], Awaitable[ProbeResult]]


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
