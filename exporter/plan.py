"""The runtime's model of a target: its validated config compiled, once, into what a run needs.

pydantic loads and validates the config; the scheduler, the state table, /metrics, /probe and
the pages then read plans: immutable, slotted, prepared when the config is loaded. A reload
compiles plans for the targets that changed only; an unchanged target keeps its plan, and so
its state, its prepared probe and its label text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.config import Target
from exporter.labels import LabelText
from exporter.probes import http, openapi, postgres, redis, steps, tcp
from exporter.probes._mask import PreparedProbe

PREPARE: dict[str, Callable[[Any], PreparedProbe[Any, Any]]] = {
    "http": http.prepare,
    "openapi": openapi.prepare,
    "steps": steps.prepare,
    "tcp": tcp.prepare,
    "postgres": postgres.prepare,
    "redis": redis.prepare,
}


@dataclass(frozen=True, slots=True, eq=False)
class TargetPlan:
    """One target, ready to run and to render. Compared by identity: a new plan is a change."""

    target: Target  # what it was compiled from: the pages read its texts and links
    name: str
    kind: str
    interval: float
    timeout: float
    success_threshold: int
    failure_threshold: int
    labels: LabelText
    probe: PreparedProbe[Any, Any]
    step_names: tuple[str, ...]  # a multi-step kind's steps, reported failed when cut off


def compile_plan(target: Target) -> TargetPlan:
    return TargetPlan(
        target=target,
        name=target.name,
        kind=target.kind,
        interval=target.interval,
        timeout=target.timeout,
        success_threshold=target.success_threshold,
        failure_threshold=target.failure_threshold,
        labels=LabelText.of(target.static_labels()),
        probe=PREPARE[target.kind](target.spec),
        step_names=tuple(target.spec.step_names()),
    )


def compile_plans(
    targets: Iterable[Target], previous: Mapping[str, TargetPlan]
) -> list[TargetPlan]:
    """A plan per target: the previous one where the target is unchanged, else a new one."""
    plans = []
    for target in targets:
        old = previous.get(target.name)
        plans.append(old if old is not None and old.target == target else compile_plan(target))
    return plans
