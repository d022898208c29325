"""Work a probe does once per spec object (request bytes, compiled paths) and reuses every run."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

S = TypeVar("S")
P = TypeVar("P")


class _Entry(weakref.ref):  # type: ignore[type-arg]
    """A weak reference to a spec that carries its plan, so an entry is one small object."""

    __slots__ = ("key", "plan")
    key: int
    plan: Any


class PerSpec(Generic[S, P]):
    """`make(spec)`'s result, kept while the spec lives (specs are not hashable: id + weakref)."""

    def __init__(self, make: Callable[[S], P]) -> None:
        self._make = make
        self._entries: dict[int, _Entry] = {}
        self._forget = self._drop  # one bound method for every entry's callback

    def __call__(self, spec: S) -> P:
        key = id(spec)
        entry = self._entries.get(key)
        if entry is not None and entry() is spec:
            plan: P = entry.plan
            return plan
        plan = self._make(spec)
        entry = _Entry(spec, self._forget)
        entry.key, entry.plan = key, plan
        self._entries[key] = entry
        return plan

    def _drop(self, entry: _Entry) -> None:
        # A new spec may already have taken the dead one's id: drop only this entry.
        if self._entries.get(entry.key) is entry:
            del self._entries[entry.key]
