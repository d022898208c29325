"""A tenant's availability over the period against its objective, as inline SVG: one bar per
day (or hour, or week), green when it met the objective, red when not, the objective dashed."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from exporter.report.compute import Bar
from exporter.report.text import percent, when

WIDTH, HEIGHT = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 10, 24
TICK_GAP = 14  # vertical room a tick label needs


def availability_chart(bars: list[Bar], objective: float | None, name: str) -> str:
    values = [b.availability for b in bars if b.availability is not None]
    low = _floor(min([*values, *([objective] if objective is not None else []), 1.0]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - low) / (1 - low))

    slot = plot_w / max(1, len(bars))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(f"Availability of {name} over the period")}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}"/>',
    ]
    labelled: list[float] = []
    for value in [*([objective] if objective is not None else []), low, 1.0]:
        if all(abs(y(value) - y(other)) >= TICK_GAP for other in labelled):
            labelled.append(value)  # the objective first: a tick too close to it is left out
            parts.append(
                f'<text class="tick" x="{LEFT - 6}" y="{y(value) + 4:.1f}" '
                f'text-anchor="end">{percent(value, 2)}</text>'
            )
    for i, bar in enumerate(bars):
        parts.append(_bar(bar, objective, LEFT + i * slot, slot, y, TOP + plot_h))
    if objective is not None:
        parts.append(
            f'<line class="objective" x1="{LEFT}" y1="{y(objective):.1f}" x2="{WIDTH - RIGHT}" '
            f'y2="{y(objective):.1f}"><title>objective {percent(objective)}</title></line>'
        )
    if bars:
        first, last = when(bars[0].start)[:10], when(bars[-1].start)[:10]
        base = HEIGHT - 6
        parts.append(f'<text class="tick" x="{LEFT}" y="{base}">{first}</text>')
        parts.append(
            f'<text class="tick" x="{WIDTH - RIGHT}" y="{base}" text-anchor="end">{last}</text>'
        )
    return "\n".join([*parts, "</svg>"])


def _bar(
    bar: Bar,
    objective: float | None,
    x: float,
    slot: float,
    y: Callable[[float], float],
    base: float,
) -> str:
    label = f"{when(bar.start)}: {percent(bar.availability)}"
    if bar.availability is None:
        return (
            f'<rect class="nodata" x="{x + slot * 0.1:.1f}" y="{base - 2}" '
            f'width="{slot * 0.8:.1f}" height="2"><title>{escape(label)}</title></rect>'
        )
    met = objective is None or bar.availability >= objective
    top = min(y(bar.availability), base - 1)
    return (
        f'<rect class="{"met" if met else "missed"}" x="{x + slot * 0.1:.1f}" y="{top:.1f}" '
        f'width="{slot * 0.8:.1f}" height="{base - top:.1f}" '
        f'data-availability="{bar.availability:.6f}"><title>{escape(label)}</title></rect>'
    )


def _floor(lowest: float) -> float:
    """A round lower bound below `lowest` with room to see the bars: 99.9% -> 99.8%."""
    gap = max(1 - lowest, 0.0005)
    for step in (0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5):
        if gap <= step * 2:
            return max(0.0, round((lowest - step) / step) * step)
    return 0.0
