"""The /metrics body, rendered straight from the state table.

Byte for byte what prometheus_client's `generate_latest` writes for the same families (a test
holds them to it), but each target's label string is built once and kept: that string is most
of the work, and it only changes when a reload changes the target.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
from collections.abc import AsyncIterator, Callable, Iterator

from prometheus_client import generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString

from exporter.config import Target
from exporter.families import PROBE_FAMILIES, Family, le_text
from exporter.own_series import maintenance_families, self_families
from exporter.runtime import Runtime
from exporter.state import Histogram, TargetState

# prometheus_client's own float formatting (Go's), given a type for mypy.
_go_float: Callable[[float], str] = floatToGoString


def _format(value: float) -> str:
    """floatToGoString, without its float repr for the common small whole numbers."""
    if value.__class__ is int and value < 1_000_000:  # Go writes 1e+06 from here on
        return f"{value}.0"
    return _go_float(value)


# Targets rendered between two returns to the event loop: a slice is a few milliseconds, so
# a scrape never holds back a probe that is due.
SLICE = 250


def escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


class _LabelText:
    """One target's label set as exposition text, and where each label pair starts in it.

    An extra label (le, reason, step) is spliced in by slicing the text at its sorted place:
    a few hundred bytes per target, where a kept copy of the text per extra label cost
    kilobytes (tracemalloc, 10,000 targets).
    """

    __slots__ = ("full", "names", "starts", "target")

    def __init__(self, target: Target) -> None:
        self.target = target
        items = sorted(target.static_labels().items())
        pairs = [f'{k}="{escape(v)}"' for k, v in items]
        self.full = "{" + ",".join(pairs) + "}"
        self.names = _shared_names(tuple(k for k, _ in items))
        starts, at = [], 1
        for pair in pairs:
            starts.append(at)
            at += len(pair) + 1
        self.starts = tuple(starts)

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
            parts.append(_pair(name, value))
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


class MetricsRenderer:
    """Renders /metrics; keeps each target's label text between scrapes."""

    def __init__(self) -> None:
        self._labels: dict[str, _LabelText] = {}

    async def render(self, runtime: Runtime) -> bytes:
        """The whole body at once, for callers that need it whole (tests, benches)."""
        return b"".join([chunk async for chunk in self.chunks(runtime)])

    async def chunks(self, runtime: Runtime) -> AsyncIterator[bytes]:
        """The body in pieces of a slice of targets each, returning to the event loop between.

        Served as it is rendered, the body is never whole in memory: at 10,000 targets it
        would be 40 MB, and the allocator keeps such a peak after it is freed.
        """
        states = list(runtime.scheduler.states.values())
        texts = await self._label_texts(states)
        for family in PROBE_FAMILIES:
            header = _header(family).encode()
            for start in range(0, len(states), SLICE):
                lines: list[str] = []
                end = start + SLICE
                _render_slice(family, states[start:end], texts[start:end], lines)
                if lines:
                    yield header + "".join(lines).encode()
                    header = b""  # a family without samples gets no header, as in the client
                await asyncio.sleep(0)
        yield generate_latest(_SelfOnly(runtime))

    async def _label_texts(self, states: list[TargetState]) -> list[_LabelText]:
        # Sliced too: after a start or a reload every target's text is built anew.
        kept: dict[str, _LabelText] = {}
        for start in range(0, len(states), SLICE):
            for state in states[start : start + SLICE]:
                text = self._labels.get(state.target.name)
                if text is None or text.target is not state.target:
                    text = _LabelText(state.target)
                kept[state.target.name] = text
            await asyncio.sleep(0)
        self._labels = kept  # targets gone since the last scrape are forgotten
        return [kept[s.target.name] for s in states]


def _render_slice(
    family: Family, states: list[TargetState], texts: list[_LabelText], lines: list[str]
) -> None:
    if family.histogram is not None:
        _render_histograms(family.name, family.histogram, states, texts, lines)
        return
    for state, text in zip(states, texts, strict=False):
        for name, extra, extra_value, value in family.samples(state):
            if not extra:
                lines.append(f"{name}{text.full} {_format(value)}\n")
            elif isinstance(extra, str):
                assert isinstance(extra_value, str)
                before, after = text.around(extra)
                lines.append(f"{name}{before}{_pair(extra, extra_value)}{after} {_format(value)}\n")
            else:
                assert isinstance(extra_value, tuple)
                spliced = text.with_extras(extra, extra_value)
                lines.append(f"{name}{spliced} {_format(value)}\n")


def _render_histograms(
    name: str,
    histogram_of: Callable[[TargetState], Histogram],
    states: list[TargetState],
    texts: list[_LabelText],
    lines: list[str],
) -> None:
    """The same lines as families.histogram_samples gives, without a tuple per line."""
    bucket, count, total = name + "_bucket", name + "_count", name + "_sum"
    for state, text in zip(states, texts, strict=False):
        hist = histogram_of(state)
        before, after = text.around("le")
        running = 0
        for le, n in zip(_le_texts(hist.bounds), hist.counts, strict=True):
            running += n
            lines.append(f'{bucket}{before}le="{le}"{after} {_format(running)}\n')
        lines.append(f'{bucket}{before}le="+Inf"{after} {_format(hist.count)}\n')
        lines.append(f"{count}{text.full} {_format(hist.count)}\n")
        lines.append(f"{total}{text.full} {_format(hist.total)}\n")


@functools.cache
def _le_texts(bounds: tuple[float, ...]) -> tuple[str, ...]:
    return tuple(le_text(b) for b in bounds)


@functools.lru_cache(maxsize=4096)
def _pair(name: str, value: str) -> str:
    return f'{name}="{escape(value)}"'


def _header(family: Family) -> str:
    name = family.name + "_total" if family.type == "counter" else family.name
    doc = family.doc.replace("\\", r"\\").replace("\n", r"\n")
    return f"# HELP {name} {doc}\n# TYPE {name} {family.type}\n"


class _SelfOnly(CollectorRegistry):
    """The maintenance windows and the exporter's own few series, through prometheus_client."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(auto_describe=False)
        self.register(_Self(runtime))


class _Self(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        yield from maintenance_families(self.runtime)
        yield from self_families(self.runtime)
