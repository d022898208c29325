"""`check --bundle`: the real promtool over generated bundles."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from exporter.check.bundle import PROMTOOL_MISSING
from exporter.cli import main
from exporter.config import load_config
from exporter.generate import render
from exporter.generate.alertmanager.files import alertmanager_files
from exporter.generate.bundle import PROMETHEUS_FILE, build, write
from exporter.generate.prometheus import PrometheusOptions, prometheus_config
from exporter.generate.rules.alerts import alert_rule_files
from exporter.generate.ruletests.alerts import alert_test_files
from tests.generate.test_bundle import CASES, REFERENCE

ALERT_TESTS = ("alerts", "outage", "self-monitoring")
EXAMPLES = sorted(REFERENCE.parent.glob("*.yaml"))


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool is not on PATH: `make system-deps` installs the prometheus package"
    return path


@pytest.fixture
def alert_bundle(tmp_path: Path) -> Path:
    """The bundle of a small config without the SLO files, whose month-long tests take seconds."""
    config = load_config(CASES[0])
    files = {PROMETHEUS_FILE: render.prometheus_file(prometheus_config(PrometheusOptions()))}
    files |= alertmanager_files(config)
    for rules in alert_rule_files(config):
        files[f"rules/{rules.name}.rules.yml"] = render.rule_file(rules)
    for tests in alert_test_files(config):
        files[f"rules/tests/{tests.name}.test.yml"] = render.rule_test_file(tests)
    write(files, tmp_path)
    return tmp_path


@pytest.fixture
def reference_bundle(tmp_path: Path) -> Path:
    # No password in the environment: generating reads no secret.
    assert main(["generate", "--config", str(REFERENCE), "--out", str(tmp_path)]) == 0
    return tmp_path


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_check_passes_the_bundle_of_each_example_with_promtool(
    promtool: str, example: Path, reference_bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--config", str(example), "--out", str(reference_bundle)]) == 0
    assert main(["check", "--config", str(example), "--bundle", str(reference_bundle)]) == 0
    out = capsys.readouterr().out
    for step in ("check config", "check rules", "test rules"):
        assert f"promtool {step}: OK" in out
    assert "bundle OK" in out


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_the_generated_alert_tests_pass_promtool(promtool: str, case: Path, tmp_path: Path) -> None:
    write(build(load_config(case)), tmp_path)
    tests = [str(tmp_path / "rules" / "tests" / f"{name}.test.yml") for name in ALERT_TESTS]
    done = subprocess.run([promtool, "test", "rules", *tests], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_names_the_failing_step(
    promtool: str, alert_bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tests = alert_bundle / "rules" / "tests" / "alerts.test.yml"
    tests.write_text(tests.read_text().replace("escalate_to: oncall_engineer", "escalate_to: x"))
    assert main(["check", "--config", str(CASES[0]), "--bundle", str(alert_bundle)]) == 1
    out = capsys.readouterr().out
    assert "promtool check config: OK" in out
    assert "promtool test rules: FAILED (exit 1)" in out
    assert 'escalate_to="oncall_engineer"' in out  # promtool's own explanation, passed on
    assert out.rstrip().endswith("bundle check failed: promtool test rules")


def test_check_fails_on_a_rule_promtool_rejects(
    promtool: str, alert_bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = alert_bundle / "rules" / "self-monitoring.rules.yml"
    rules.write_text(rules.read_text().replace("expr: vector(1)", "expr: vector(1"))
    assert main(["check", "--config", str(CASES[0]), "--bundle", str(alert_bundle)]) == 1
    out = capsys.readouterr().out
    assert "promtool check rules: FAILED" in out
    assert "bundle check failed: promtool check config, promtool check rules, promtool test" in out


def test_check_without_promtool_is_a_clear_failure(
    alert_bundle: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(alert_bundle))
    assert main(["check", "--config", str(CASES[0]), "--bundle", str(alert_bundle)]) == 1
    assert PROMTOOL_MISSING in capsys.readouterr().out


def test_check_without_bundle_only_validates_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no promtool: it must not be needed
    assert main(["check", "--config", str(CASES[0])]) == 0
    assert "promtool" not in capsys.readouterr().out


def test_check_fails_on_duplicate_rules(
    promtool: str, alert_bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = alert_bundle / "rules" / "self-monitoring.rules.yml"
    text = rules.read_text()
    watchdog = text[text.index("  - alert: Watchdog") :]
    rules.write_text(text + watchdog)
    assert main(["check", "--config", str(CASES[0]), "--bundle", str(alert_bundle)]) == 1
    out = capsys.readouterr().out
    assert "promtool check rules: FAILED (exit 3)" in out
    assert "duplicate rule(s) found" in out
