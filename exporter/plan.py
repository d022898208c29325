"""The runtime's model of a target: its validated config compiled, once, into what a run needs.

pydantic loads and validates the config; the scheduler, the state table, /metrics, /probe and
the pages then read plans only: immutable, slotted, prepared when the config is loaded. The
parsed Target is dropped once compiled. A reload compiles plans for the targets that changed
only, told by a digest of each target's config: an unchanged target keeps its plan, and so its
state, its prepared probe and its label text.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.config import Target
from exporter.labels import LabelText, series_labels
from exporter.probes import http, openapi, postgres, redis, steps, tcp
from exporter.probes._mask import PreparedProbe, secrets_of

PREPARE: dict[str, Callable[[Any], PreparedProbe[Any, Any, Any]]] = {
    "http": http.prepare,
    "openapi": openapi.prepare,
    "steps": steps.prepare,
    "tcp": tcp.prepare,
    "postgres": postgres.prepare,
    "redis": redis.prepare,
}


@dataclass(frozen=True, slots=True)
class Money:
    """Revenue at stake when a target fails."""

    amount: float
    currency: str


@dataclass(frozen=True, slots=True, eq=False)
class TargetAbout:
    """What the pages and the metrics say about a target: who it serves and what it means."""

    name: str
    kind: str
    severity: str
    context: str
    tenant: str
    tier: str
    service: str
    description: str
    runbook_url: str
    alert: str  # the name of its alert definition, "" for none
    revenue_at_risk: Money | None
    labels: tuple[tuple[str, str], ...]  # its own labels and the defaults', sorted

    def static_labels(self) -> dict[str, str]:
        """The label set every series of this target carries, in exposition order."""
        return series_labels(
            self.name,
            self.kind,
            self.severity,
            self.context,
            self.tenant,
            self.tier,
            self.service,
            self.labels,
        )


@dataclass(frozen=True, slots=True, eq=False)
class TargetPlan:
    """One target, ready to run and to render. Compared by identity: a new plan is a change."""

    name: str
    kind: str
    interval: float
    timeout: float
    success_threshold: int
    failure_threshold: int
    about: TargetAbout
    labels: LabelText
    probe: PreparedProbe[Any, Any, Any]
    step_names: tuple[str, ...]  # a multi-step kind's steps, reported failed when cut off
    digest: bytes  # of the target's config (target_digest): equal for an unchanged target


def target_digest(target: Target) -> bytes:
    """A digest of everything the target's config says, the secrets it resolved included
    (they are not in its JSON): equal digests, equal targets."""
    digest = hashlib.blake2b(target.model_dump_json().encode(), digest_size=16)
    for secret in secrets_of(target.spec):
        digest.update(b"\0" + secret.encode())
    return digest.digest()


LabelSets = dict[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]


def compile_plan(
    target: Target, digest: bytes | None = None, label_sets: LabelSets | None = None
) -> TargetPlan:
    """`label_sets`: the label sets of the targets compiled with this one, for equal ones to
    be one tuple (most targets carry the defaults' labels alone)."""
    about = _about(target, {} if label_sets is None else label_sets)
    return TargetPlan(
        name=about.name,
        kind=about.kind,
        interval=target.interval,
        timeout=target.timeout,
        success_threshold=target.success_threshold,
        failure_threshold=target.failure_threshold,
        about=about,
        labels=LabelText.of(about.static_labels()),
        probe=PREPARE[about.kind](target.spec),
        step_names=tuple(target.spec.step_names()),
        digest=target_digest(target) if digest is None else digest,
    )


def compile_plans(
    targets: Iterable[Target], previous: Mapping[str, TargetPlan]
) -> list[TargetPlan]:
    """A plan per target: the previous one where the target is unchanged, else a new one."""
    plans: list[TargetPlan] = []
    label_sets: LabelSets = {}
    for target in targets:
        digest = target_digest(target)
        old = previous.get(target.name)
        if old is None or old.digest != digest:
            old = compile_plan(target, digest, label_sets)
        plans.append(old)
    return plans


def _about(target: Target, label_sets: LabelSets) -> TargetAbout:
    money = target.revenue_at_risk
    labels = tuple(sorted(target.labels.items()))
    return TargetAbout(
        name=target.name,
        kind=_shared(target.kind),
        severity=_shared(target.severity),
        context=_shared(target.context),
        tenant=_shared(target.tenant),
        tier=_shared(target.tier),
        service=_shared(target.service),
        description=target.description,
        runbook_url=target.runbook_url,
        alert=_shared(target.alert or ""),
        revenue_at_risk=None if money is None else Money(money.amount, _shared(money.currency)),
        labels=label_sets.setdefault(labels, labels),
    )


def _shared(text: str) -> str:
    # Thousands of targets name a few tenants, services and contexts: one string for each.
    return sys.intern(text)
