"""A target's label set as exposition text, rendered once when its plan is compiled."""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


def series_labels(
    probe: str,
    kind: str,
    severity: str,
    context: str,
    tenant: str,
    tier: str,
    service: str,
    own: Iterable[tuple[str, str]],
) -> dict[str, str]:
    """The label set every series of a target carries, in exposition order: its business
    context, then its own labels (sorted by the caller). The exporter's series and the
    generator's rules and tests both take it from here."""
    return {
        "probe": probe,
        "kind": kind,
        "severity": severity,
        "context": context,
        "tenant": tenant,
        "tier": tier,
        "service": service,
        **dict(own),
    }


def escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


@functools.lru_cache(maxsize=4096)
def pair(name: str, value: str) -> str:
    return f'{name}="{escape(value)}"'


@dataclass(frozen=True, slots=True, eq=False)
class LabelText:
    """One target's label set as exposition text, and where each label pair starts in it.

    An extra label (le, reason, step) is spliced in by slicing the text at its sorted place:
    a few hundred bytes per target, where a kept copy of the text per extra label cost
    kilobytes (tracemalloc, 10,000 targets).
    """

    full: str
    names: tuple[str, ...]
    starts: tuple[int, ...]

    @classmethod
    def of(cls, labels: Mapping[str, str]) -> LabelText:
        items = sorted(labels.items())
        pairs = [f'{k}="{escape(v)}"' for k, v in items]
        starts, at = [], 1
        for text in pairs:
            starts.append(at)
            at += len(text) + 1
        names = _shared_names(tuple(k for k, _ in items))
        return cls("{" + ",".join(pairs) + "}", names, tuple(starts))

    def around(self, extra: str) -> tuple[str, str]:
        """(text before, text after) the extra label, in sorted label order."""
        index = bisect.bisect(self.names, extra)
        if index == len(self.names):
            return self.full[:-1] + ("," if index else ""), "}"
        cut = self.starts[index]
        return self.full[:cut], "," + self.full[cut:]

    def with_extras(self, names: tuple[str, ...], values: tuple[str, ...]) -> str:
        """The label text with several extra labels (an info family's), each in sorted place."""
        parts, done = [], 0  # done: the static pairs already in parts
        for name, value in sorted(zip(names, values, strict=True)):
            index = bisect.bisect(self.names, name)
            if index > done:
                parts.append(self.full[self.starts[done] : self._end(index)])
            parts.append(pair(name, value))
            done = index
        if done < len(self.names):
            parts.append(self.full[self.starts[done] : len(self.full) - 1])
        return "{" + ",".join(parts) + "}"

    def _end(self, index: int) -> int:
        """Where the static pairs before pair `index` end, the comma after them excluded."""
        return self.starts[index] - 1 if index < len(self.starts) else len(self.full) - 1


_NAME_SETS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _shared_names(names: tuple[str, ...]) -> tuple[str, ...]:
    # Targets mostly share one set of label names: one tuple for all of them.
    return _NAME_SETS.setdefault(names, names)
