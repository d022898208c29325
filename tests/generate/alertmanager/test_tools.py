"""The generated Alertmanager config under the real amtool and Alertmanager (Debian's 0.25)."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest

from exporter.check.alertmanager import AMTOOL_MISSING, route_receivers
from exporter.cli import main
from exporter.config import Config, load_config
from exporter.generate.alertmanager import render as render_alertmanager
from exporter.generate.alertmanager import validate
from exporter.generate.alertmanager.files import (
    CONFIG_FILE,
    alertmanager_config,
    alertmanager_files,
    unreachable_routes,
)
from exporter.generate.alertmanager.routing_cases import routing_cases
from exporter.generate.alertmanager.templates import TEMPLATES
from exporter.generate.bundle import write
from tests.generate.alertmanager.test_routing import DOTMAC, ZEBRA_RECEIVERS
from tests.generate.test_bundle import CASES, REFERENCE


@pytest.fixture(scope="module")
def amtool() -> str:
    path = shutil.which("amtool")
    assert path, "amtool is not on PATH: `make system-deps` installs prometheus-alertmanager"
    return path


def write_alertmanager(config: Config, directory: Path, notify_to: str = "") -> Path:
    write(alertmanager_files(config, notify_to), directory)
    return directory / CONFIG_FILE


def check_config(amtool: str, config_file: Path) -> subprocess.CompletedProcess[str]:
    argv = [amtool, "check-config", str(config_file)]
    return subprocess.run(argv, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("notify_to", ["", "http://127.0.0.1:9/hooks"], ids=["real", "notify-to"])
@pytest.mark.parametrize("example", [REFERENCE, DOTMAC, *CASES], ids=lambda p: p.stem)
def test_amtool_accepts_the_generated_config_and_templates(
    amtool: str, example: Path, notify_to: str, tmp_path: Path
) -> None:
    config_file = write_alertmanager(load_config(example, offline=True), tmp_path, notify_to)
    done = check_config(amtool, config_file)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_amtool_rejects_a_broken_template(amtool: str, tmp_path: Path) -> None:
    config_file = write_alertmanager(load_config(REFERENCE, offline=True), tmp_path)
    slack = config_file.parent / "templates" / "slack.tmpl"
    slack.write_text(slack.read_text().replace("{{ end -}}", "{{ end -}", 1))
    done = subprocess.run(
        [amtool, "check-config", str(config_file)], capture_output=True, text=True
    )
    assert done.returncode == 1, done.stdout  # so the test above would see a template error


@pytest.mark.parametrize("example", [REFERENCE, DOTMAC], ids=lambda p: p.stem)
def test_amtool_routes_every_case_as_the_walk_and_the_policy_say(
    amtool: str, example: Path, tmp_path: Path
) -> None:
    config = load_config(example, offline=True)
    config_file = write_alertmanager(config, tmp_path)
    am = alertmanager_config(config)
    for case in routing_cases(config):
        printed = route_receivers(amtool, config_file, case.labels)
        assert printed == validate.receivers_of(am, case.labels), case.name
        assert sorted(set(printed)) == sorted(case.receivers), case.name


def test_amtool_and_the_walk_agree_on_a_tree_missing_a_continue(
    amtool: str, tmp_path: Path
) -> None:
    config = load_config(REFERENCE, offline=True)
    am = alertmanager_config(config)
    broken = dataclasses.replace(
        am,
        route=dataclasses.replace(
            am.route, routes=tuple(dataclasses.replace(r, continue_=False) for r in am.route.routes)
        ),
    )
    files = {CONFIG_FILE: render_alertmanager.alertmanager_file(broken)}
    write(files | {f"alertmanager/templates/{n}": t for n, t in TEMPLATES.items()}, tmp_path)
    zebra = next(c for c in routing_cases(config) if c.name == "ZebraAdminFailure level 0")
    printed = route_receivers(amtool, tmp_path / CONFIG_FILE, zebra.labels)
    assert printed == validate.receivers_of(broken, zebra.labels) == [ZEBRA_RECEIVERS]


def test_check_runs_amtool_and_names_each_misrouted_case(
    amtool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--config", str(REFERENCE), "--out", str(tmp_path)]) == 0
    assert main(["check", "--config", str(REFERENCE), "--bundle", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "amtool check-config: OK" in out
    assert "amtool config routes test: OK (44 cases)" in out
    assert "alertmanager routes reachable: OK" in out
    assert "alertmanager notifies each receiver once: OK" in out
    config_file = tmp_path / CONFIG_FILE
    text = config_file.read_text()
    zebra = '    - context="zebra_opportunity"\n    continue: true\n'
    config_file.write_text(text.replace(zebra, zebra.replace("    continue: true\n", "")))
    assert main(["check", "--config", str(REFERENCE), "--bundle", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "amtool config routes test: FAILED (2 of 44 cases)" in out
    assert (
        f"    ZebraAdminFailure level 0: amtool routes to {ZEBRA_RECEIVERS}; "
        f"expected {ZEBRA_RECEIVERS}, pagerduty_critical+slack_alerts"
    ) in out
    assert out.rstrip().endswith("bundle check failed: amtool config routes test")


def test_check_fails_on_a_route_no_alert_reaches(
    amtool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "marketedge.yaml"
    config.write_text(REFERENCE.read_text().replace("\n    security:", UNUSED_CONTEXT, 1))
    bundle = tmp_path / "bundle"
    assert main(["generate", "--config", str(config), "--out", str(bundle)]) == 0
    assert main(["check", "--config", str(config), "--bundle", str(bundle)]) == 1
    out = capsys.readouterr().out
    assert "amtool config routes test: OK (44 cases)" in out  # the tree does what it says...
    assert "alertmanager routes reachable: FAILED (1 unreachable)" in out  # ...which is wrong
    assert "    routing.contexts.performance: no alert of this config reaches the route" in out


ZEBRA_ALSO_ON_SLACK_ALERTS = "receivers: [slack_zebra_channel, slack_alerts, email_matt_lindop,"


def test_check_fails_on_a_receiver_an_alert_reaches_through_two_routes(
    amtool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "marketedge.yaml"
    text = REFERENCE.read_text()
    zebra = "receivers: [slack_zebra_channel, email_matt_lindop,"
    assert zebra in text
    config.write_text(text.replace(zebra, ZEBRA_ALSO_ON_SLACK_ALERTS, 1))
    bundle = tmp_path / "bundle"
    assert main(["generate", "--config", str(config), "--out", str(bundle)]) == 0
    err = capsys.readouterr().err
    assert "warning: routing case 'ZebraAdminFailure level 0': reaches receiver slack_alerts" in err
    assert main(["check", "--config", str(config), "--bundle", str(bundle)]) == 1
    out = capsys.readouterr().out
    assert "alertmanager routes reachable: OK" in out
    assert "alertmanager notifies each receiver once: FAILED (" in out
    assert (
        "    routing case 'ZebraAdminFailure level 0': reaches receiver slack_alerts through 2 "
        "routes (routing.contexts.zebra_opportunity, routing.severities.critical), which would "
        "notify it 2 times"
    ) in out


def test_check_without_amtool_is_a_clear_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "bundle"
    assert main(["generate", "--config", str(CASES[0]), "--out", str(bundle)]) == 0
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "promtool").symlink_to(shutil.which("promtool") or "promtool")
    monkeypatch.setenv("PATH", str(tools))
    assert main(["check", "--config", str(CASES[0]), "--bundle", str(bundle)]) == 1
    out = capsys.readouterr().out
    assert AMTOOL_MISSING in out
    assert "promtool check rules: OK" in out


UNUSED_CONTEXT = """
    performance: {receivers: [slack_alerts]}
    security:"""


def test_generate_warns_of_a_context_route_no_alert_reaches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "marketedge.yaml"
    config.write_text(REFERENCE.read_text().replace("\n    security:", UNUSED_CONTEXT, 1))
    assert unreachable_routes(load_config(config, offline=True)) == [
        "routing.contexts.performance: no alert of this config reaches the route "
        '{context="performance"} (receiver slack_alerts)'
    ]
    assert main(["generate", "--config", str(config), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "warning: routing.contexts.performance: no alert of this config reaches" in err


def test_generate_notify_to_writes_webhooks_that_amtool_accepts(
    amtool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["generate", "--config", str(REFERENCE), "--out", str(tmp_path)]
    assert main([*argv, "--notify-to", "http://127.0.0.1:9999/sink"]) == 0
    text = (tmp_path / CONFIG_FILE).read_text()
    assert "url: http://127.0.0.1:9999/sink/slack_zebra_channel\n" in text
    assert "slack_configs" not in text
    assert check_config(amtool, tmp_path / CONFIG_FILE).returncode == 0
    with pytest.raises(SystemExit):
        main([*argv, "--notify-to", "127.0.0.1:9999"])
    assert "--notify-to: must be an http:// or https:// URL" in capsys.readouterr().err
