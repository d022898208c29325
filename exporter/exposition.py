"""The /metrics body, rendered straight from the state table.

Byte for byte what prometheus_client's `generate_latest` writes for the same families (a test
holds them to it), but each target's label string is built once and kept: that string is most
of the work, and it only changes when a reload changes the target.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator

from prometheus_client import generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString

from exporter.collector import self_families
from exporter.config import Target
from exporter.families import PROBE_FAMILIES, Family, le_text
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
    """One target's label set as exposition text, and split around an extra label."""

    __slots__ = ("full", "items", "splits", "target")

    def __init__(self, target: Target) -> None:
        self.target = target
        self.items = sorted(target.static_labels().items())
        self.full = "{" + ",".join(f'{k}="{escape(v)}"' for k, v in self.items) + "}"
        self.splits: dict[str, tuple[str, str]] = {}

    def around(self, extra: str) -> tuple[str, str]:
        """(text before, text after) the extra label, in sorted label order."""
        split = self.splits.get(extra)
        if split is None:
            before = ",".join(f'{k}="{escape(v)}"' for k, v in self.items if k < extra)
            after = ",".join(f'{k}="{escape(v)}"' for k, v in self.items if k > extra)
            split = ("{" + before + ("," if before else ""), ("," if after else "") + after + "}")
            self.splits[extra] = split
        return split


class MetricsRenderer:
    """Renders /metrics; keeps each target's label text between scrapes."""

    def __init__(self) -> None:
        self._labels: dict[str, _LabelText] = {}

    async def render(self, runtime: Runtime) -> bytes:
        """The whole body, returning to the event loop between slices of targets."""
        states = list(runtime.scheduler.states.values())
        texts = await self._label_texts(states)
        out: list[bytes] = []
        for family in PROBE_FAMILIES:
            chunks: list[bytes] = []
            for start in range(0, len(states), SLICE):
                lines: list[str] = []
                _render_slice(family, states[start : start + SLICE], texts[start:], lines)
                # Encoded slice by slice: one 40 MB join and encode would hold the loop itself.
                chunks.append("".join(lines).encode())
                await asyncio.sleep(0)
            if any(chunks):
                out += [_header(family).encode(), *chunks]
        out.append(generate_latest(_SelfOnly(runtime)))
        return b"".join(out)

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
            if extra:
                before, after = text.around(extra)
                lines.append(f"{name}{before}{_pair(extra, extra_value)}{after} {_format(value)}\n")
            else:
                lines.append(f"{name}{text.full} {_format(value)}\n")


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
    """The exporter's own few series, through prometheus_client as they are."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(auto_describe=False)
        self.register(_Self(runtime))


class _Self(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        return self_families(self.runtime)
