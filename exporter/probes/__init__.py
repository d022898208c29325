"""Probe kinds: one module per kind, one `probe(spec, trace)` entry point each.

The kinds import what they share from exporter.probes.result and .budget, never from here.
"""

from __future__ import annotations

from exporter.probes import http, openapi, postgres, redis, steps, tcp
from exporter.probes.budget import remaining_budget, time_budget
from exporter.probes.result import ProbeFunction, ProbeResult, Seen, StepResult, Trace

__all__ = [
    "PROBES",
    "ProbeFunction",
    "ProbeResult",
    "Seen",
    "StepResult",
    "Trace",
    "remaining_budget",
    "time_budget",
]

PROBES: dict[str, ProbeFunction] = {
    "http": http.probe,
    "openapi": openapi.probe,
    "steps": steps.probe,
    "tcp": tcp.probe,
    "postgres": postgres.probe,
    "redis": redis.probe,
}
