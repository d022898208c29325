"""Maintenance windows in the bundle: promtool, amtool and a real Alertmanager hold them."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from exporter.config import Config, parse_config
from exporter.demo.sink import Post, WebhookSink
from exporter.generate.alertmanager import validate
from exporter.generate.alertmanager.files import alertmanager_config
from exporter.generate.alertmanager.maintenance import one_off_specs
from exporter.generate.alertmanager.model import Route, TimeSpec
from exporter.generate.alertmanager.routing_cases import routing_cases
from exporter.generate.bundle import build, write
from exporter.generate.model import RuleGroup
from exporter.generate.render import rule_file, rule_test_file
from exporter.generate.rules.alerts import alert_rule_files
from exporter.generate.rules.slo import slo_rule_files
from exporter.generate.ruletests.slo import slo_test_files
from tests.generate.alertmanager.test_tools import write_alertmanager
from tests.generate.rules.test_slo import DOTMAC, promtool_runs
from tests.servers import free_port, wait_for

WINDOW_5M = "business_maintenance_window_active[5m]"
WINDOW_3M = "business_maintenance_window_active[3m]"  # TenantApiDown: 2 runs of 1m, and 1m
WINDOWS = """
maintenance:
  northwind_migration:
    tenant: northwind_fibre
    start: START
    end: END
  portal_patching:
    service: portal
    recurring:
      - weekdays: [sunday]
        times: [{start_time: "02:00", end_time: "04:00"}]
        location: Europe/London
"""


def without_windows(text: str) -> str:
    """A reference config without its own maintenance windows."""
    return text[: text.index("\nmaintenance:")] + "\n" if "\nmaintenance:" in text else text


def dotmac(start: str = "2026-12-13T22:00:00Z", end: str = "2026-12-16T01:30:00Z") -> Config:
    text = without_windows(DOTMAC.read_text()) + WINDOWS.replace("START", start).replace("END", end)
    return parse_config(text, offline=True)


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool is not on PATH: `make system-deps` installs the prometheus package"
    return path


def maintenance_run(
    promtool: str, config: Config, tmp_path: Path, old: str = "", new: str = ""
) -> str:
    """Run rules/tests/maintenance.test.yml against the SLO rules, `old` replaced by `new`."""
    rules = tmp_path / "rules"
    (rules / "tests").mkdir(parents=True)
    for file in [*slo_rule_files(config), *alert_rule_files(config)]:
        groups = tuple(_mutate(g, old, new) for g in file.groups) if old else file.groups
        (rules / f"{file.name}.rules.yml").write_text(rule_file(replace(file, groups=groups)))
    (tests,) = (f for f in slo_test_files(config) if f.name == "maintenance")
    (rules / "tests" / "maintenance.test.yml").write_text(rule_test_file(tests))
    (run,) = promtool_runs(promtool, ["test", "rules", str(rules / "tests/maintenance.test.yml")])
    return f"exit {run.returncode}\n{run.stdout}"


def _mutate(group: RuleGroup, old: str, new: str) -> RuleGroup:
    return replace(
        group, rules=tuple(replace(r, expr=r.expr.replace(old, new)) for r in group.rules)
    )


def test_a_failure_inside_a_window_costs_no_budget_and_fires_no_slo_alert(
    promtool: str, tmp_path: Path
) -> None:
    assert maintenance_run(promtool, dotmac(), tmp_path).startswith("exit 0"), "promtool failed"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(
            " unless on (tenant, service) (max_over_time(" + WINDOW_5M + ") == 1)",
            "",
            id="without the window the runs would cost budget and page",
        ),
        pytest.param(
            WINDOW_5M,
            "business_maintenance_window_active[1m]",
            id="a 5m rate straddling the window's end would count its last failures",
        ),
        pytest.param(
            "\nunless on (tenant, service) (max_over_time(" + WINDOW_3M + ") == 1)",
            "",
            id="an alert definition's alert would fire inside the window",
        ),
        pytest.param(
            WINDOW_3M,
            "business_maintenance_window_active[1m]",
            id="a target fixed at the window's end would page while it counts its successes",
        ),
    ],
)
def test_the_generated_test_fails_when_the_rules_count_runs_inside_the_window(
    promtool: str, tmp_path: Path, old: str, new: str
) -> None:
    config = dotmac()
    files = [*slo_rule_files(config), *alert_rule_files(config)]
    assert any(old in r.expr for f in files for g in f.groups for r in g.rules)
    out = maintenance_run(promtool, config, tmp_path, old, new)
    assert out.startswith("exit 1"), out
    assert "FAILED" in out


def test_the_rules_are_unchanged_by_a_config_without_windows() -> None:
    plain = parse_config(without_windows(DOTMAC.read_text()), offline=True)
    texts = [rule_file(f) for f in slo_rule_files(plain)]
    assert not any("maintenance" in t for t in texts)
    assert "maintenance" not in [f.name for f in slo_test_files(plain)]


def utc(*parts: int) -> datetime:
    year, month, day, hour, minute = (*parts, 0, 0)[:5]
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "specs"),
    [
        pytest.param(
            utc(2026, 12, 13, 22), utc(2026, 12, 14, 1, 30),
            [TimeSpec((("22:00", "24:00"),), (), ("13",), ("12",), ("2026",)),
             TimeSpec((("00:00", "01:30"),), (), ("14",), ("12",), ("2026",))],
            id="across midnight",
        ),
        pytest.param(
            utc(2026, 12, 30, 12), utc(2027, 1, 3),
            [TimeSpec((("12:00", "24:00"),), (), ("30",), ("12",), ("2026",)),
             TimeSpec((), (), ("31",), ("12",), ("2026",)),
             TimeSpec((), (), ("1:2",), ("1",), ("2027",))],
            id="whole days merged within a month, not across the year",
        ),
        pytest.param(
            utc(2026, 6, 1, 9, 15), utc(2026, 6, 1, 9, 45),
            [TimeSpec((("09:15", "09:45"),), (), ("1",), ("6",), ("2026",))],
            id="half an hour",
        ),
    ],
)  # fmt: skip
def test_a_one_off_window_is_written_as_utc_calendar_entries(
    start: datetime, end: datetime, specs: list[TimeSpec]
) -> None:
    text = (
        without_windows(DOTMAC.read_text())
        + f"maintenance: {{w: {{start: {start.isoformat()}, end: {end.isoformat()}}}}}\n"
    )
    window = parse_config(text, offline=True).maintenance["w"]
    assert list(one_off_specs(window)) == specs


@pytest.fixture(scope="module")
def amtool() -> str:
    path = shutil.which("amtool")
    assert path, "amtool is not on PATH: `make system-deps` installs prometheus-alertmanager"
    return path


def amtool_tree(amtool: str, config_file: Path, labels: dict[str, str]) -> str:
    argv = [amtool, "config", "routes", "test", "--tree", f"--config.file={config_file}"]
    argv += [f"{k}={v}" for k, v in sorted(labels.items())]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def test_amtool_routes_an_alert_under_maintenance_through_its_muted_route_only(
    amtool: str, tmp_path: Path
) -> None:
    config = dotmac()
    config_file = write_alertmanager(config, tmp_path)
    check = subprocess.run(
        [amtool, "check-config", str(config_file)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    cases = {case.name: case for case in routing_cases(config)}
    during = cases["TenantApiDown level 0 during maintenance northwind_migration"]
    outside = {**during.labels, "tenant": "hilltop_isp", "tier": "basic"}
    inside_tree = amtool_tree(amtool, config_file, during.labels)
    assert '{service=~"api|billing",tenant="northwind_fibre"}' in inside_tree, inside_tree
    assert "tenant=" not in amtool_tree(amtool, config_file, outside)
    # The same receivers as outside a window: only the mute differs.
    am = alertmanager_config(config)
    assert sorted(set(validate.receivers_of(am, during.labels))) == sorted(during.receivers)
    assert during.mutes == ("maintenance_northwind_migration",)
    for route in validate.walk(am.route, during.labels):
        assert "maintenance_northwind_migration" in route.mute_time_intervals


def test_generate_refuses_a_tree_that_loses_a_mute() -> None:
    config = dotmac()
    am = alertmanager_config(config)
    assert validate.problems(am, routing_cases(config)) == []
    watchdog, muted, *rest = am.route.routes
    stripped = replace(muted, routes=tuple(_unmuted(r) for r in muted.routes))
    broken = replace(am, route=replace(am.route, routes=(watchdog, stripped, *rest)))
    problems = validate.problems(broken, routing_cases(config))
    assert problems, "a lost mute must be an error"
    assert all("the maintenance windows say maintenance_northwind_migration" in p for p in problems)


def _unmuted(route: Route) -> Route:
    return replace(route, mute_time_intervals=())


@contextlib.contextmanager
def debug_alertmanager(config_file: Path) -> Iterator[tuple[str, Path]]:
    """Alertmanager logging at debug level, which says when it holds back a muted route."""
    url = f"http://127.0.0.1:{free_port()}"
    log_path = config_file.parent / "alertmanager.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                "prometheus-alertmanager",
                f"--config.file={config_file}",
                f"--storage.path={config_file.parent / 'data'}",
                f"--web.listen-address={url.removeprefix('http://')}",
                "--cluster.listen-address=",
                "--log.level=debug",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: _ready(url), timeout=10, what="Alertmanager to be ready")
            yield url, log_path
        finally:
            process.terminate()
            process.wait(timeout=10)


def _ready(url: str) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/-/ready", timeout=1) as r:
        return bool(r.status == 200)
    return False


def test_alertmanager_notifies_nobody_of_a_tenant_in_maintenance_and_the_others_as_usual(
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start, end = now - timedelta(minutes=1), now + timedelta(minutes=30)
    config = dotmac(start.isoformat(), end.isoformat())
    config = config.model_copy(
        update={"routing": config.routing.model_copy(update={"group_wait": 0.0})}
        if config.routing
        else {}
    )
    cases = {case.name: case for case in routing_cases(config)}
    in_window = cases["TenantApiDown level 0 during maintenance northwind_migration"].labels
    other = {
        **in_window,
        "tenant": "hilltop_isp",
        "tier": "basic",
        "probe": "hilltop_isp_api_health",
    }
    with WebhookSink() as sink:
        config_file = write_alertmanager(config, tmp_path, sink.url)
        with debug_alertmanager(config_file) as (url, log):
            body = json.dumps([{"labels": in_window}, {"labels": other}]).encode()
            request = urllib.request.Request(
                f"{url}/api/v2/alerts", body, {"Content-Type": "application/json"}
            )
            urllib.request.urlopen(request, timeout=5).close()
            delivered = sink.wait_for(_of("hilltop_isp"), timeout=15, what="the other tenant")
            assert delivered.path in ("/pagerduty_platform", "/slack_platform", "/email_platform")
            wait_for(
                lambda: "route is within mute time" in log.read_text(),
                timeout=15,
                what="Alertmanager to hold back the muted route",
            )
            assert sink.matching_within(_of("northwind_fibre"), 0) == []


def _of(tenant: str) -> Callable[[Post], bool]:
    def match(post: Post) -> bool:
        body = post.body
        alerts = body.get("alerts", []) if isinstance(body, dict) else []
        return any(a["labels"].get("tenant") == tenant for a in alerts)

    return match


def test_the_bundle_of_a_config_with_windows_passes_check(tmp_path: Path) -> None:
    from exporter.check.bundle import check_bundle

    config = dotmac()
    write(build(config), tmp_path)
    out = tmp_path / "check.txt"
    with out.open("w") as handle:
        assert check_bundle(tmp_path, handle, config), out.read_text()
