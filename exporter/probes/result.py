"""What one probe run finds, and the account it gives of itself: shared by every probe kind."""

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
