"""The dashboards: their panels, queries, variables, links, ids and stale-file marker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter import conventions as c
from exporter.config import Config, load_config, parse_config
from exporter.generate.bundle import build, write
from exporter.generate.grafana.provisioning import TAG
from exporter.generate.render import GENERATED, is_generated
from tests.generate.grafana.dashboards import (
    DASHBOARDS,
    expand,
    load,
    panels,
    queries,
    selectors,
    variables,
)

ROOT = Path(__file__).parents[3]
REFERENCE = ROOT / "examples" / "marketedge.yaml"
TENANTS = ROOT / "tests" / "testdata" / "generate" / "in-tenants.yaml"
CASES = [REFERENCE, TENANTS, ROOT / "examples" / "dotmac.yaml"]
VARIABLES = (c.LABEL_TENANT, c.LABEL_SERVICE, c.LABEL_CONTEXT)
ALL = dict.fromkeys(VARIABLES, ".*")
KEEP = {v: f"${v}" for v in VARIABLES}  # Grafana's own variables expanded, the dashboard's kept
BARE = """
targets:
  - name: api
    severity: high
    context: api_up
    service: api
    http: {url: "http://127.0.0.1:8000/health"}
"""


def boards(config: Config | Path) -> dict[str, dict[str, Any]]:
    return load(build(config if isinstance(config, Config) else load_config(config, offline=True)))


def parse_config_offline(text: str) -> Config:
    return parse_config(text, offline=True)


def titles(board: dict[str, Any]) -> list[str]:
    return [p["title"] for p in panels(board)]


def ids(board: dict[str, Any]) -> dict[str, int]:
    return {p["title"]: p["id"] for p in board["panels"]}


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_every_panel_and_variable_query_parses_as_promql(case: Path) -> None:
    found = boards(case)
    exprs = [q.expr for q in queries(found)]
    exprs += [v.selector for board in found.values() for v in variables(board)]
    errors = []
    for expr in exprs:
        try:
            selectors(expand(expr, ALL))
        except ValueError as err:
            errors.append(f"{expr}: {err}")
    assert errors == []
    assert len(exprs) > 30


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_every_series_a_panel_reads_is_exported_or_recorded(case: Path) -> None:
    files = build(load_config(case, offline=True))
    recorded = {
        rule["record"]
        for path, text in files.items()
        if path.endswith(".rules.yml")
        for group in yaml.safe_load(text)["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    exported = {v for v in vars(c).values() if isinstance(v, str) and v.startswith("business_")}
    prometheus_own = {"ALERTS", "scrape_duration_seconds"}
    unknown = {
        name
        for query in queries(load(files))
        for name, _ in selectors(expand(query.expr, ALL))
        if name not in recorded | prometheus_own
        and name.removesuffix("_total").removesuffix("_bucket") not in exported
    }
    assert unknown == set()


def _filters(name: str) -> tuple[str, ...]:
    """The variables a selector of `name` must apply: those of the labels its series have."""
    if name.startswith(("business_probe_", "probe:")) or name == "ALERTS":
        return VARIABLES
    level = name.split(":")[0] if ":" in name else ""
    return tuple(v for v in VARIABLES if v in level.split("_"))


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_panels_filter_by_every_variable_their_series_can_carry(case: Path) -> None:
    missing = []
    for query in queries(boards(case)):
        for name, labels in selectors(expand(query.expr, KEEP)):
            for variable in _filters(name):
                value = labels.get(variable)  # the variable, or a fixed value (a context's tile)
                if value is None or ("$" in value and value != f"${variable}"):
                    missing.append(f"{query.panel}: {name} has no {variable}=~${variable}")
    assert missing == []


def test_the_reference_dashboards_have_the_expected_panels() -> None:
    found = boards(REFERENCE)
    assert titles(found["executive"]) == [
        "Revenue at risk now",
        "Revenue at risk by context",
        "Revenue critical - direct revenue generation",
        "Zebra Associates opportunity (£925K)",
        "Availability by tier (30d)",
        "Availability by tenant (30d)",
        "Availability by service (1h window)",
    ]
    assert titles(found["operations"]) == [
        "Probes failing now",
        "Probe status matrix",
        "Alert state by probe",
        "Active alerts and escalations",
        "Alerts firing by escalation level",
        "Failure reasons by probe",
        "Time since last success",
    ]
    assert titles(found["engineering"]) == [
        "Probe duration heatmap",
        "Latency p50 / p95 / p99 by probe (5m)",
        "p95 latency by tenant (5m)",
        "Failures by reason",
        "Error ratio by service (5m)",
        "Scheduler lag",
        "Probes in flight",
        "Missed runs",
        "Config reloads",
        "Targets",
        "Scrape duration",
    ]
    types = {p["title"]: p["type"] for board in found.values() for p in panels(board)}
    assert types["Zebra Associates opportunity (£925K)"] == "stat"
    assert types["Probe status matrix"] == "status-history"
    assert types["Active alerts and escalations"] == "table"
    assert types["Probe duration heatmap"] == "heatmap"


def test_the_alert_table_shows_escalations() -> None:
    (table,) = [
        p for p in panels(boards(REFERENCE)["operations"]) if p["title"].startswith("Active alerts")
    ]
    assert table["targets"][0]["expr"].startswith('ALERTS{alertstate="firing"')
    columns = table["transformations"][0]["options"]["indexByName"]
    assert {c.LABEL_ESCALATION_LEVEL, c.LABEL_ESCALATE_TO} <= columns.keys()


def test_error_budgets_and_latency_objectives_appear_with_tiers() -> None:
    found = boards(TENANTS)
    assert {
        "Error budget remaining by tenant (30d)",
        "Error budget remaining by tier, worst tenant (30d)",
    } <= set(titles(found["executive"]))
    legends = [t["legendFormat"] for p in panels(found["engineering"]) for t in p["targets"]]
    assert "{{tier}} objective" in legends
    # Without tiers (the reference), there is no budget to show.
    assert not any("budget" in t for t in titles(boards(REFERENCE)["executive"]))


def test_a_config_without_revenue_tenants_or_tiers_gets_no_empty_panels() -> None:
    found = boards(parse_config_offline(BARE))
    executive = titles(found["executive"])
    assert not any("Revenue" in t or "tenant" in t or "tier" in t for t in executive)
    assert executive == ["api_up", "Availability by service (1h window)"]  # every context is key
    assert "p95 latency by tenant (5m)" not in titles(found["engineering"])


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_every_dashboard_has_the_tenant_service_and_context_variables(case: Path) -> None:
    for board in boards(case).values():
        assert [(v.name, v.label) for v in variables(board)] == [(v, v) for v in VARIABLES]
        # Each narrows the next: services of the chosen tenants, contexts of both.
        assert [v.selector for v in variables(board)] == [
            c.PROBE_SUCCESS,
            f'{c.PROBE_SUCCESS}{{tenant=~"$tenant"}}',
            f'{c.PROBE_SUCCESS}{{tenant=~"$tenant", service=~"$service"}}',
        ]
        for variable in board["templating"]["list"]:
            assert (variable["multi"], variable["includeAll"], variable["allValue"]) == (
                True,
                True,
                ".*",
            )


def test_the_dashboards_link_to_each_other_by_tag_with_fixed_uids() -> None:
    found = boards(REFERENCE)
    assert {n: b["uid"] for n, b in found.items()} == {
        n: f"business-exporter-{n}" for n in DASHBOARDS
    }
    for board in found.values():
        assert TAG in board["tags"]
        (link,) = board["links"]
        assert (link["type"], link["tags"], link["includeVars"], link["keepTime"]) == (
            "dashboards",
            [TAG],
            True,
            True,
        )
        assert board["schemaVersion"] == 41


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_dashboards_are_deterministic_with_unique_panel_ids(case: Path) -> None:
    first, second = (build(load_config(case, offline=True)) for _ in range(2))
    dashboards = {p: t for p, t in first.items() if p.startswith("grafana/")}
    assert dashboards == {p: t for p, t in second.items() if p.startswith("grafana/")}
    for path, text in dashboards.items():
        if path.endswith(".json"):  # sorted keys, two-space indent, a final newline
            assert (
                text
                == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
            )
    for board in load(first).values():
        all_ids = [p["id"] for p in board["panels"]]
        assert len(all_ids) == len(set(all_ids))


def _with_target(text: str, target: str) -> str:
    return text.replace("\ntargets:\n", f"\ntargets:\n{target}", 1)


def test_adding_a_target_keeps_every_panel_id() -> None:
    text = REFERENCE.read_text()
    before = boards(parse_config_offline(text))
    same_context = """  - name: zebra_reports
    severity: high
    context: zebra_opportunity
    service: reports
    http: {url: "http://127.0.0.1:8000/api/v1/reports"}
"""
    # A target of a known context changes no dashboard: targets are found by label, not listed.
    assert boards(parse_config_offline(_with_target(text, same_context))) == before
    new_context = same_context.replace("zebra_opportunity", "security").replace(
        "service: reports", "service: reports\n    revenue_at_risk: {amount: 5, currency: GBP}"
    )
    after = boards(parse_config_offline(_with_target(text, new_context)))
    for name, board in before.items():
        assert ids(board).items() <= ids(after[name]).items()
    assert ids(after["executive"])["Security - data protection and compliance"] > 100


def test_write_removes_stale_dashboards_and_keeps_hand_written_ones(tmp_path: Path) -> None:
    files = build(load_config(REFERENCE, offline=True))
    write(files, tmp_path)
    folder = tmp_path / "grafana" / "dashboards"
    (folder / "gone.json").write_text(json.dumps({"description": f"Old. {GENERATED}"}))
    (folder / "mine.json").write_text(json.dumps({"description": "Made by hand."}))
    done = write(files, tmp_path)
    assert done.removed == ("grafana/dashboards/gone.json",)
    assert (folder / "mine.json").exists()
    assert all(is_generated(folder.joinpath(f"{name}.json").read_text()) for name in DASHBOARDS)
    assert not is_generated("{not json")
