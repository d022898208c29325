"""The predictive alerts: promtool runs their generated tests, and each broken rule fails them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from exporter import conventions as c
from exporter.config import parse_config
from exporter.generate.model import AlertingRule, RuleGroup
from exporter.generate.render import rule_file, rule_test_file
from exporter.generate.rules.predict import LEFT_IN_MONTH
from exporter.generate.rules.slo import slo_rule_files
from exporter.generate.ruletests.slo import slo_test_files
from tests.generate.rules.test_slo import DOTMAC, SMALL, promtool, promtool_runs

__all__ = ["promtool"]  # the fixture


def run_predict_tests(
    promtool: str, text: str, tmp_path: Path, old: str = "", new: str = ""
) -> str:
    config = parse_config(text, offline=True)
    rules = tmp_path / "rules"
    (rules / "tests").mkdir(parents=True)
    for file in slo_rule_files(config):
        groups = tuple(_mutate(g, old, new) for g in file.groups)
        (rules / f"{file.name}.rules.yml").write_text(rule_file(replace(file, groups=groups)))
    (tests,) = (f for f in slo_test_files(config) if f.name == "predict")
    (rules / "tests" / "predict.test.yml").write_text(rule_test_file(tests))
    (run,) = promtool_runs(promtool, ["test", "rules", str(rules / "tests" / "predict.test.yml")])
    return f"exit {run.returncode}\n{run.stdout}"


def _mutate(group: RuleGroup, old: str, new: str) -> RuleGroup:
    if not old:
        return group
    rules = tuple(
        replace(r, expr=r.expr.replace(old, new)) if isinstance(r, AlertingRule) else r
        for r in group.rules
    )
    return replace(group, rules=rules)


@pytest.mark.parametrize("text", [SMALL, DOTMAC.read_text()], ids=["small", "dotmac"])
def test_the_predictions_pass_their_generated_tests(
    promtool: str, text: str, tmp_path: Path
) -> None:
    out = run_predict_tests(promtool, text, tmp_path)
    assert out.startswith("exit 0"), out


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(LEFT_IN_MONTH, "0", id="a burn spending the budget this month: silent"),
        pytest.param(LEFT_IN_MONTH, "(3 * 86400)", id="only the next 3 days would count"),
        pytest.param(
            'ratio30d{tier="gold"} > 0\n',
            'ratio30d{tier="gold"} > -1\n',
            id="an overspent budget would be predicted again",
        ),
        pytest.param(", 900)", ", 60)", id="the latency trend would look one minute ahead"),
        pytest.param("900) > 0.25", "900) > 0.5", id="the trend held to a later bound"),
    ],
)
def test_a_broken_prediction_fails_its_generated_tests(
    promtool: str, tmp_path: Path, old: str, new: str
) -> None:
    config = parse_config(SMALL, offline=True)
    exprs = [r.expr for f in slo_rule_files(config) for g in f.groups for r in g.rules]
    assert any(old in e for e in exprs), old
    out = run_predict_tests(promtool, SMALL, tmp_path, old, new)
    assert out.startswith("exit 1"), out


def test_every_tier_gets_both_predictions_and_its_quantile() -> None:
    config = parse_config(SMALL, offline=True)
    rules = [r for f in slo_rule_files(config) for g in f.groups for r in g.rules
             if g.name == c.GROUP_SLO_PREDICTIONS]  # fmt: skip
    names = sorted(getattr(r, "alert", "") or getattr(r, "record", "") for r in rules)
    assert names == sorted(
        [c.ALERT_AVAILABILITY_BUDGET_EXHAUSTION, c.ALERT_LATENCY_BUDGET_EXHAUSTION,
         c.ALERT_LATENCY_TREND, c.DURATION_OBJECTIVE_QUANTILE] * 2
    )  # fmt: skip
    gold = next(r for r in rules if getattr(r, "record", "") and r.labels[c.LABEL_TIER] == "gold")
    assert gold.expr.startswith("histogram_quantile(0.99, ")  # gold's latency_objective is 99
