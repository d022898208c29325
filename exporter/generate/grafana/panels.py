"""Building blocks the three dashboards share: datasource, variables, selectors, panels, layout.

Every panel gets an explicit id and size, and the layout is computed here, so a dashboard's ids
and positions depend on the code and on which sections a config needs, never on build order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, Self, TypeVar

from grafana_foundation_sdk.builders import (
    bargauge,
    heatmap,
    stat,
    statetimeline,
    statushistory,
    table,
)
from grafana_foundation_sdk.builders import dashboard as board
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.builders import timeseries as ts
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.variants import Dataquery
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from exporter import conventions as c
from exporter.generate.grafana.provisioning import DATASOURCE_UID, TAG
from exporter.generate.render import GENERATED

DATASOURCE = model.DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
# Template variables, each named after the label it filters, in the order they narrow down.
VARIABLES = (c.LABEL_TENANT, c.LABEL_SERVICE, c.LABEL_CONTEXT)
GRID_WIDTH = 24


def matchers(*labels: str, fixed: str = "") -> str:
    """`{fixed, tenant=~"$tenant", ...}` for the given variable labels."""
    parts = [fixed] if fixed else []
    parts += [f'{label}=~"${label}"' for label in labels]
    return "{" + ", ".join(parts) + "}"


def select(metric: str, *labels: str, fixed: str = "") -> str:
    """A selector filtered by the given variables, or by every one of VARIABLES when none given."""
    return metric + matchers(*(labels or VARIABLES), fixed=fixed)


@dataclass(frozen=True, slots=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False
    format: PromQueryFormat | None = None


class PanelBuilder(Protocol):
    """The methods every panel builder of the SDK has."""

    def build(self) -> model.Panel: ...
    def id(self, id_val: int) -> Self: ...
    def title(self, title: str) -> Self: ...
    def description(self, description: str) -> Self: ...
    def datasource(self, datasource: model.DataSourceRef) -> Self: ...
    def span(self, w: int) -> Self: ...
    def height(self, h: int) -> Self: ...
    def with_target(self, target: Builder[Dataquery]) -> Self: ...
    def unit(self, unit: str) -> Self: ...
    def thresholds(self, thresholds: Builder[model.ThresholdsConfig]) -> Self: ...


_P = TypeVar("_P", bound=PanelBuilder)


@dataclass(frozen=True, slots=True)
class Spec:
    """What every panel has: id, title, description, queries, unit and size (w, h)."""

    id: int
    title: str
    description: str
    queries: tuple[Query, ...]
    unit: str = "short"
    size: tuple[int, int] = (12, 8)


def _target(query: Query, ref: str) -> prom.Dataquery:
    target = prom.Dataquery().expr(query.expr).ref_id(ref).datasource(DATASOURCE)
    if query.legend:
        target.legend_format(query.legend)
    if query.instant:
        target.instant()
    if query.format is not None:
        target.format(query.format)
    return target


def _panel(builder: _P, spec: Spec) -> _P:
    builder.id(spec.id).title(spec.title).description(spec.description)
    builder.datasource(DATASOURCE).unit(spec.unit).span(spec.size[0]).height(spec.size[1])
    # One neutral color unless a panel says otherwise: Grafana's default turns red at 80.
    builder.thresholds(thresholds(("green", None)))
    for i, query in enumerate(spec.queries):
        builder.with_target(_target(query, chr(ord("A") + i)))
    return builder


def thresholds(*steps: tuple[str, float | None]) -> board.ThresholdsConfig:
    """Absolute thresholds from (color, from value) pairs, the first from None."""
    config = board.ThresholdsConfig().mode(model.ThresholdsMode.ABSOLUTE)
    return config.steps([model.Threshold(value=value, color=color) for color, value in steps])


def value_mappings(*texts: tuple[int, str, str]) -> list[model.ValueMapping]:
    """Show (value, text, color) triples as their text, e.g. (1, "FAILING", "red")."""
    options = {
        str(value): model.ValueMappingResult(text=text, color=color, index=i)
        for i, (value, text, color) in enumerate(texts)
    }
    return [model.ValueMap(options=options)]


def timeseries(spec: Spec) -> ts.Panel:
    return _panel(ts.Panel(), spec).fill_opacity(10).line_width(1)


def stat_panel(spec: Spec, *mappings: tuple[int, str, str]) -> stat.Panel:
    panel = _panel(stat.Panel(), spec).graph_mode(common.BigValueGraphMode.AREA)
    if mappings:
        panel.mappings(value_mappings(*mappings)).no_value("no data")
    return panel


def bar_gauge(spec: Spec, steps: board.ThresholdsConfig | None = None) -> bargauge.Panel:
    panel = _panel(bargauge.Panel(), spec).orientation(common.VizOrientation.HORIZONTAL)
    panel.display_mode(common.BarGaugeDisplayMode.GRADIENT)
    if steps is not None:
        panel.thresholds(steps)
    return panel


def table_panel(
    spec: Spec, columns: Sequence[str], hidden: Sequence[str], renamed: dict[str, str] | None = None
) -> table.Panel:
    """A table of an instant query: `columns` first in this order, `hidden` left out."""
    panel = _panel(table.Panel(), spec)
    organize = {
        "indexByName": {name: i for i, name in enumerate(columns)},
        "excludeByName": dict.fromkeys(hidden, True),
        "renameByName": renamed or {},
    }
    return panel.with_transformation(model.DataTransformerConfig("organize", options=organize))


def state_timeline(spec: Spec, *mappings: tuple[int, str, str]) -> statetimeline.Panel:
    panel = _panel(statetimeline.Panel(), spec).mappings(value_mappings(*mappings))
    return panel.show_value(common.VisibilityMode.NEVER).merge_values(True)


def status_history(spec: Spec, *mappings: tuple[int, str, str]) -> statushistory.Panel:
    panel = _panel(statushistory.Panel(), spec).mappings(value_mappings(*mappings))
    return panel.show_value(common.VisibilityMode.NEVER)


def heatmap_panel(spec: Spec) -> heatmap.Panel:
    """A heatmap of histogram buckets as Prometheus returns them: not calculated by Grafana."""
    panel = _panel(heatmap.Panel(), spec).calculate(False)
    return panel.y_axis(heatmap.YAxisConfig().unit(spec.unit))


@dataclass(frozen=True, slots=True)
class Section:
    """A row and its panels; a section with no panel is left out."""

    id: int
    title: str
    panels: tuple[PanelBuilder, ...]


def dashboard(uid: str, title: str, summary: str, sections: Sequence[Section]) -> model.Dashboard:
    """A dashboard with the shared variables and links; `summary` starts its description."""
    builder = (
        board.Dashboard(title)
        .uid(uid)
        .tags([TAG])
        .description(f"{summary} {GENERATED}")
        .time("now-6h", "now")
        .refresh("1m")
        .timezone("browser")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .variables(_variables())
        .link(_link())
    )
    y = 0
    for section in (s for s in sections if s.panels):
        row = board.Row(section.title).id(section.id)
        builder.with_row(row.grid_pos(model.GridPos(h=1, w=GRID_WIDTH, x=0, y=y)))
        y += 1
        for panel, position in _layout(section.panels, y):
            builder.with_panel(_Placed(panel, position))
            y = max(y, position.y + position.h)
    return builder.build()


def _layout(panels: Sequence[PanelBuilder], top: int) -> list[tuple[PanelBuilder, model.GridPos]]:
    """Left to right, wrapping to a new line when a panel would not fit."""
    placed, x, y, line = [], 0, top, 0
    for panel in panels:
        size = panel.build().grid_pos or model.GridPos()
        if x + size.w > GRID_WIDTH:
            x, y, line = 0, y + line, 0
        placed.append((panel, model.GridPos(h=size.h, w=size.w, x=x, y=y)))
        x, line = x + size.w, max(line, size.h)
    return placed


class _Placed(Builder[model.Panel]):
    """A panel at a position computed here (the SDK would re-place a panel at 0, 0)."""

    def __init__(self, panel: PanelBuilder, position: model.GridPos) -> None:
        self._panel = panel
        self._position = position

    def build(self) -> model.Panel:
        built = self._panel.build()
        built.grid_pos = self._position
        return built


def _variables() -> list[Builder[model.VariableModel]]:
    """tenant, service, context: label values of the probe series, each narrowed by the ones
    before it; multi-valued, with All meaning `.*` (which also matches an empty label)."""
    return [
        board.QueryVariable(label)
        .label(label.capitalize())
        .query(f"label_values({_narrowed(VARIABLES[:i])}, {label})")
        .datasource(DATASOURCE)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(model.VariableOption(selected=True, text=["All"], value=["$__all"]))
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
        for i, label in enumerate(VARIABLES)
    ]


def _narrowed(labels: tuple[str, ...]) -> str:
    return select(c.PROBE_SUCCESS, *labels) if labels else c.PROBE_SUCCESS


def _link() -> board.DashboardLink:
    """One link menu to every dashboard of the bundle, by tag, keeping time and variables."""
    return (
        board.DashboardLink("Business exporter")
        .type(model.DashboardLinkType.DASHBOARDS)
        .tags([TAG])
        .as_dropdown(False)
        .include_vars(True)
        .keep_time(True)
    )
