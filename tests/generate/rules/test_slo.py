"""SLO and revenue rules: the real promtool checks them and runs the tests generated with them."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from exporter import conventions as c
from exporter.config import Config, load_config, parse_config
from exporter.generate.model import AlertingRule, RecordingRule, RuleGroup
from exporter.generate.render import rule_file, rule_test_file
from exporter.generate.rules.alerts import alert_rule_files
from exporter.generate.rules.objectives import le_bound
from exporter.generate.rules.slo import slo_rule_files
from exporter.generate.ruletests.slo import slo_test_files

ROOT = Path(__file__).parents[3]
DOTMAC = ROOT / "examples" / "dotmac.yaml"

SMALL = """
contexts:
  subscriptions:
    revenue_at_risk: {amount: 4000, currency: EUR}
tiers:
  silver: {availability: 99.0, latency: 1s, error_rate: 2.0}
  gold:
    availability: 99.9
    latency: 250ms
    error_rate: 0.5
    latency_objective: 99
    runbook_url: https://runbooks.example.com/gold
tenants:
  acme: {tier: silver}
  globex: {tier: gold}
targets:
  - name: "{tenant}_checkout"
    per_tenant: true
    severity: critical
    context: subscriptions
    service: shop
    http: {url: "https://shop.example.com/{tenant}/checkout"}
  - name: "{tenant}_invoices"
    per_tenant: true
    severity: high
    context: subscriptions
    service: billing
    http: {url: "https://billing.example.com/{tenant}/invoices"}
  - name: status_page
    severity: info
    context: subscriptions
    service: status
    revenue_at_risk: {amount: 10, currency: USD}
    http: {url: "https://status.example.com/"}
"""

# No tiers and no tenants: availability, p95 and revenue only.
UNTIERED = """
targets:
  - name: login
    severity: critical
    context: revenue_critical
    service: auth
    revenue_at_risk: {amount: 925000, currency: GBP}
    http: {url: "https://api.example.com/login"}
  - name: admin
    severity: high
    context: revenue_critical
    service: admin
    revenue_at_risk: {amount: 925000, currency: GBP}
    http: {url: "https://api.example.com/admin"}
"""


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool is not on PATH: `make system-deps` installs the prometheus package"
    return path


def write_rules(config: Config, out: Path) -> Path:
    """rules/*.rules.yml and rules/tests/*.test.yml under out, as the bundle lays them out."""
    rules = out / "rules"
    (rules / "tests").mkdir(parents=True, exist_ok=True)
    # The maintenance tests also read the alert rules, which keep quiet in a window.
    for file in [*slo_rule_files(config), *alert_rule_files(config)]:
        (rules / f"{file.name}.rules.yml").write_text(rule_file(file), encoding="utf-8")
    for tests in slo_test_files(config):
        (rules / "tests" / f"{tests.name}.test.yml").write_text(
            rule_test_file(tests), encoding="utf-8"
        )
    return rules


def promtool_runs(promtool: str, *commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Run promtool commands side by side: each test file takes a second or two."""
    running = [
        subprocess.Popen(
            [promtool, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for args in commands
    ]
    return [subprocess.CompletedProcess(p.args, p.wait(), p.communicate()[0], "") for p in running]


def assert_passes(promtool: str, rules: Path) -> None:
    files = sorted(str(p) for p in rules.glob("*.rules.yml"))
    tests = sorted(str(p) for p in (rules / "tests").glob("*.test.yml"))
    runs = promtool_runs(
        promtool,
        ["check", "rules", "--lint-fatal", *files],
        *(["test", "rules", test] for test in tests),
    )
    for run in runs:
        assert run.returncode == 0, f"{' '.join(run.args)}\n{run.stdout}"


@pytest.mark.parametrize(
    ("name", "tests"),
    [
        ("dotmac", ["maintenance", "predict", "revenue", "slo", "slo-days", "slo-long"]),
        ("small", ["predict", "revenue", "slo", "slo-days", "slo-long"]),
        ("untiered", ["revenue", "slo", "slo-days", "slo-long"]),
    ],
)
def test_the_rules_pass_promtool_and_their_generated_tests(
    promtool: str, tmp_path: Path, name: str, tests: list[str]
) -> None:
    config = {
        "dotmac": lambda: load_config(DOTMAC),
        "small": lambda: parse_config(SMALL),
        "untiered": lambda: parse_config(UNTIERED),
    }[name]()
    rules = write_rules(config, tmp_path)
    assert sorted(p.name.removesuffix(".test.yml") for p in (rules / "tests").iterdir()) == tests
    assert_passes(promtool, rules)


def test_a_config_without_tiers_records_slis_and_revenue_but_no_objectives_or_alerts() -> None:
    revenue, slo = slo_rule_files(parse_config(UNTIERED))
    assert [g.name for g in revenue.groups] == [c.GROUP_REVENUE_AT_RISK]
    assert [g.name for g in slo.groups] == [c.GROUP_SLO_SLI, c.GROUP_SLO_WINDOWS, c.GROUP_SLO_DAYS]
    records = {r.record for g in slo.groups for r in g.rules if hasattr(r, "record")}
    assert c.AVAILABILITY.format(level="tier", window="30d") in records
    assert c.WITHIN_LATENCY.format(window="5m") not in records


def test_the_output_is_deterministic() -> None:
    def render(config: Config) -> list[str]:
        return [rule_file(f) for f in slo_rule_files(config)] + [
            rule_test_file(f) for f in slo_test_files(config)
        ]

    assert render(load_config(DOTMAC)) == render(load_config(DOTMAC))


def rules_text(config_text: str) -> dict[str, str]:
    """Each rule of the config as one line (no YAML wrapping), keyed by its tier or ""."""
    out: dict[str, str] = {}
    for file in slo_rule_files(parse_config(config_text)):
        for rule in (r for g in file.groups for r in g.rules):
            name = rule.record if isinstance(rule, RecordingRule) else rule.alert
            tier = rule.labels.get(c.LABEL_TIER, "")
            extra = "" if isinstance(rule, RecordingRule) else str(rule.annotations)
            out[tier] = out.get(tier, "") + f"{name} {rule.expr} {rule.labels} {extra}\n"
    return out


@pytest.mark.parametrize(
    ("field", "value", "before", "after"),
    [
        pytest.param(
            "availability: 99.9",
            "availability: 99.5",
            (
                "vector(0.999)",
                "(14.4 * 0.001)",
                "(1 * 0.001)",
                'ratio_rate30d{tier="gold"}) / 0.001',
            ),
            (
                "vector(0.995)",
                "(14.4 * 0.005)",
                "(1 * 0.005)",
                'ratio_rate30d{tier="gold"}) / 0.005',
            ),
            id="a tier's availability objective sets its burn thresholds and budget",
        ),
        pytest.param(
            "latency: 250ms",
            "latency: 750ms",
            ('tier="gold", le="0.25"', "vector(0.25)", "slower than 250ms"),
            ('tier="gold", le="0.75"', "vector(0.75)", "slower than 750ms"),
            id="a tier's latency is the bucket its latency SLI reads",
        ),
        pytest.param(
            "latency: 250ms",
            "latency: 600ms",
            ('tier="gold", le="0.25"',),
            ('tier="gold", le="0.5"',),
            id="a latency between bucket bounds reads the bound below it",
        ),
        pytest.param(
            "latency_objective: 99",
            "latency_objective: 90",
            (
                'latency:ratio_rate1h{tier="gold"}) > (14.4 * 0.01)',
                'latency:ratio_rate30d{tier="gold"}) / 0.01',
            ),
            (
                'latency:ratio_rate1h{tier="gold"}) > (14.4 * 0.1)',
                'latency:ratio_rate30d{tier="gold"}) / 0.1',
            ),
            id="the latency objective sets the latency burn thresholds and budget",
        ),
        pytest.param(
            "runbook_url: https://runbooks.example.com/gold",
            "runbook_url: https://wiki.example.com/gold-slo",
            ("https://runbooks.example.com/gold",),
            ("https://wiki.example.com/gold-slo",),
            id="a tier's runbook_url goes to its burn-rate alerts",
        ),
    ],
)
def test_one_tier_field_changed_changes_that_tiers_rules_only(
    field: str, value: str, before: tuple[str, ...], after: tuple[str, ...]
) -> None:
    assert SMALL.count(field) == 1
    original, changed = rules_text(SMALL), rules_text(SMALL.replace(field, value))
    for text in before:
        assert text in original["gold"], text
        assert text not in changed["gold"], text
    for text in after:
        assert text in changed["gold"], text
        assert text not in original["gold"], text
    assert {k: v for k, v in changed.items() if k != "gold"} == {
        k: v for k, v in original.items() if k != "gold"
    }


# The Google SRE workbook, chapter 5 "Alerting on SLOs", recommended multiwindow multi-burn-rate
# parameters: written out here from the book, never read from the generator's own table.
WORKBOOK_BURNS = {
    "page": {("1h", "5m", "14.4"), ("6h", "30m", "6")},
    "ticket": {("1d", "2h", "3"), ("3d", "6h", "1")},
}
_BURN_CONDITION = re.compile(
    r'\(1 - [\w:]+?(?P<window>\d+[mhd])\{tier="gold"\}\) > \((?P<factor>[\d.]+) \* 0\.001\)'
)


@pytest.mark.parametrize(
    ("alert", "urgency"),
    [
        (c.ALERT_AVAILABILITY_BURN_PAGE, "page"),
        (c.ALERT_AVAILABILITY_BURN_TICKET, "ticket"),
    ],
)
def test_burn_rate_windows_and_factors_are_the_sre_workbooks(alert: str, urgency: str) -> None:
    rules = [
        r
        for file in slo_rule_files(parse_config(SMALL))
        for g in file.groups
        for r in g.rules
        if isinstance(r, AlertingRule) and r.alert == alert and r.labels[c.LABEL_TIER] == "gold"
    ]
    assert len(rules) == 1
    # Each "or" branch is one burn: its long and short windows, both above the same factor.
    burns = set()
    for branch in rules[0].expr.split("\nor\n"):
        found = [m.groupdict() for m in _BURN_CONDITION.finditer(branch)]
        assert len(found) == 2, branch
        assert found[0]["factor"] == found[1]["factor"], branch
        burns.add((found[0]["window"], found[1]["window"], found[0]["factor"]))
    assert burns == WORKBOOK_BURNS[urgency]
    assert rules[0].labels[c.LABEL_SEVERITY] == ("critical" if urgency == "page" else "medium")


@pytest.mark.parametrize(
    ("latency", "bound"), [(0.25, 0.25), (0.75, 0.75), (0.6, 0.5), (0.001, 0.005), (60, 30.0)]
)
def test_the_latency_sli_reads_the_bound_at_or_below_the_tier_latency(
    latency: float, bound: float
) -> None:
    assert le_bound(latency) == bound


# Each rule broken on purpose must fail its generated promtool tests: they have teeth. Each row
# names the test file and the case (a fragment of its name) that must catch it.
MUTATIONS = [
    pytest.param(
        "revenue",
        "revenue at risk",
        "max by (tenant, context, currency)",
        "sum by (tenant, context, currency)",
        id="two failing targets of one opportunity would count it twice",
    ),
    pytest.param(
        "revenue",
        "revenue at risk",
        "ignoring(currency) group_left",
        "ignoring(currency)",
        id="revenue at risk would lose its currency",
    ),
    pytest.param(
        "slo-long",
        "summed before dividing",
        "sum by (service) (probe:business_probe_runs_success",
        "avg by (service) (probe:business_probe_runs_success",
        id="a service's availability would average its targets instead of summing runs",
    ),
    pytest.param(
        "slo",
        "windows 5m",
        "success:rate5m[2h])",
        "success:rate5m[100m])",
        id="a 2h window would be shorter",
    ),
    pytest.param(
        "slo-days",
        "windows 1d",
        "success:rate1h[3d])",
        "success:rate1h[4d])",
        id="a 3d window would be longer",
    ),
    pytest.param(
        "slo",
        "14.4x",
        '{tier="silver"}) > (14.4 * 0.01)',
        '{tier="silver"}) > (12 * 0.01)',
        id="a page would fire below its burn rate",
    ),
    pytest.param(
        "slo",
        "14.4x",
        'availability:ratio_rate5m{tier="silver"}) > (14.4',
        'availability:ratio_rate1h{tier="silver"}) > (14.4',
        id="a page would not reset with its short window",
    ),
    pytest.param(
        "slo-long",
        "1x over 3d",
        "(1 * 0.001)",
        "(1.2 * 0.001)",
        id="a ticket would not open at its burn rate",
    ),
    pytest.param(
        "slo-long",
        "error budget",
        'ratio_rate30d{tier="gold"}) / 0.001',
        'ratio_rate30d{tier="gold"}) / 0.002',
        id="the error budget would be the wrong size",
    ),
    pytest.param(
        "slo-long",
        "summed before dividing",
        'le="0.25"',
        'le="0.5"',
        id="the latency SLI would read the wrong bucket",
    ),
]


@pytest.mark.parametrize(("test", "case", "old", "new"), MUTATIONS)
def test_a_broken_rule_fails_its_generated_tests(
    promtool: str, tmp_path: Path, test: str, case: str, old: str, new: str
) -> None:
    config = parse_config(SMALL)
    rules = tmp_path / "rules"
    (rules / "tests").mkdir(parents=True)
    files = slo_rule_files(config)
    assert any(old in r.expr for f in files for g in f.groups for r in g.rules)
    for file in files:
        text = rule_file(replace(file, groups=tuple(_mutate(g, old, new) for g in file.groups)))
        (rules / f"{file.name}.rules.yml").write_text(text, encoding="utf-8")
    (tests,) = (f for f in slo_test_files(config) if f.name == test)
    only = replace(tests, tests=tuple(t for t in tests.tests if case in t.name))
    assert len(only.tests) == 1
    (rules / "tests" / "only.test.yml").write_text(rule_test_file(only), encoding="utf-8")
    (run,) = promtool_runs(promtool, ["test", "rules", str(rules / "tests" / "only.test.yml")])
    assert run.returncode == 1, run.stdout
    assert "FAILED" in run.stdout


def _mutate(group: RuleGroup, old: str, new: str) -> RuleGroup:
    rules = tuple(replace(r, expr=r.expr.replace(old, new)) for r in group.rules)
    return replace(group, rules=rules)
