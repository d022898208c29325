"""Work a probe does once per spec object (request bytes, compiled paths) and reuses every run."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

S = TypeVar("S")
P = TypeVar("P")


class PerSpec(Generic[S, P]):
    """`make(spec)`'s result, kept while the spec lives (specs are not hashable: id + weakref)."""

    def __init__(self, make: Callable[[S], P]) -> None:
        self._make = make
        self._plans: dict[int, tuple[weakref.ref[S], P]] = {}

    def __call__(self, spec: S) -> P:
        key = id(spec)
        entry = self._plans.get(key)
        if entry is not None and entry[0]() is spec:
            return entry[1]
        plan = self._make(spec)
        self._plans[key] = (weakref.ref(spec, lambda _: self._plans.pop(key, None)), plan)
        return plan
