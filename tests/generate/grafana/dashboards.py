"""Reading generated dashboards in tests: their panels, queries and variables, and Grafana's
variable syntax expanded into PromQL that Prometheus and promql-parser accept."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import promql_parser

DASHBOARDS = ("executive", "operations", "engineering")
# Grafana's own variables, with values that suit a 1s scrape interval.
BUILTINS = {"__rate_interval": "5s", "__interval": "2s", "__range": "1h"}
_VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")
_LABEL_VALUES = re.compile(r"^label_values\((.+), (\w+)\)$")


@dataclass(frozen=True, slots=True)
class PanelQuery:
    dashboard: str
    panel: str
    expr: str


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    selector: str  # label_values(<selector>, label)
    label: str


def load(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The dashboards of a built bundle, by name."""
    return {name: json.loads(files[f"grafana/dashboards/{name}.json"]) for name in DASHBOARDS}


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel but rows."""
    return [p for p in board["panels"] if p["type"] != "row"]


def queries(boards: dict[str, dict[str, Any]]) -> list[PanelQuery]:
    return [
        PanelQuery(name, panel["title"], target["expr"])
        for name, board in boards.items()
        for panel in panels(board)
        for target in panel["targets"]
    ]


def variables(board: dict[str, Any]) -> list[Variable]:
    found = []
    for variable in board["templating"]["list"]:
        match = _LABEL_VALUES.match(variable["query"])
        assert match, f"not a label_values query: {variable['query']}"
        found.append(Variable(variable["name"], match[1], match[2]))
    return found


def expand(expr: str, values: dict[str, str]) -> str:
    """Grafana's variables replaced by `values` (the dashboard's) or BUILTINS; any other fails."""
    known = {**BUILTINS, **values}

    def value(match: re.Match[str]) -> str:
        name = match[1] or match[2]
        assert name in known, f"unknown variable ${name} in {expr}"
        return known[name]

    return _VARIABLE.sub(value, expr)


def selectors(expr: str) -> list[tuple[str, dict[str, str]]]:
    """(metric name, {label: matcher value}) of every vector selector of a parsed expression."""
    found: list[tuple[str, dict[str, str]]] = []

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            labels = {m.name: m.value for m in node.matchers.matchers}
            found.append((node.name or labels.get("__name__", ""), labels))

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found
