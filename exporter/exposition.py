"""The /metrics body, rendered straight from the state table.

Byte for byte what prometheus_client's `generate_latest` writes for the same families (a test
holds them to it), but each target's label string is built once, when its plan is compiled
(exporter/plan.py): that string is most of the work, and it only changes with the target.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Iterator

from prometheus_client import generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString

from exporter.families import PROBE_FAMILIES, Family, le_text
from exporter.labels import LabelText, pair
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


class MetricsRenderer:
    """Renders /metrics from the state table; each target's label text is in its plan."""

    async def render(self, runtime: Runtime) -> bytes:
        """The whole body at once, for callers that need it whole (tests, benches)."""
        return b"".join([chunk async for chunk in self.chunks(runtime)])

    async def chunks(self, runtime: Runtime) -> AsyncIterator[bytes]:
        """The body in pieces of a slice of targets each, returning to the event loop between.

        Served as it is rendered, the body is never whole in memory: at 10,000 targets it
        would be 40 MB, and the allocator keeps such a peak after it is freed.
        """
        states = list(runtime.scheduler.states.values())
        texts = [state.plan.labels for state in states]
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


def _render_slice(
    family: Family, states: list[TargetState], texts: list[LabelText], lines: list[str]
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
                lines.append(f"{name}{before}{pair(extra, extra_value)}{after} {_format(value)}\n")
            else:
                assert isinstance(extra_value, tuple)
                spliced = text.with_extras(extra, extra_value)
                lines.append(f"{name}{spliced} {_format(value)}\n")


def _render_histograms(
    name: str,
    histogram_of: Callable[[TargetState], Histogram],
    states: list[TargetState],
    texts: list[LabelText],
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
