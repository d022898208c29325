"""`generate --kubernetes`: every object valid offline as the API server and kubectl would have
it, checked by the real promtool and amtool, deterministic, and saying what the plain bundle
says."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.cli import main
from exporter.generate.bundle import OWNED_DIRS as BUNDLE_DIRS
from exporter.generate.kubernetes.check import check_kubernetes, load_objects
from exporter.generate.kubernetes.kit import OWNED_DIRS, REFERENCE_OUT
from exporter.generate.render import HEADER
from tests.generate.kubernetes.validation import (
    kubectl_decoded,
    kubectl_kustomize,
    lost_in,
    problems,
)
from tests.generate.test_bundle import assert_same_files, read_tree

ROOT = Path(__file__).parents[3]
REFERENCE = ROOT / "examples" / "marketedge.yaml"
SECRETS = ROOT / "tests" / "testdata" / "kubernetes" / "in-secrets.yaml"
SMALL = ROOT / "tests" / "testdata" / "generate" / "in-escalation.yaml"
CASES = [
    REFERENCE,
    ROOT / "examples" / "dotmac.yaml",
    SECRETS,
    *sorted((ROOT / "tests" / "testdata" / "generate").glob("in-*.yaml")),
]


def generate(config: Path, out: Path, *flags: str) -> Path:
    """The kit of `config` under out/kubernetes."""
    assert (
        main(["generate", "--config", str(config), "--out", str(out), "--kubernetes", *flags]) == 0
    )
    return out / "kubernetes"


def kind(objects: list[dict[str, Any]], wanted: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == wanted]


@pytest.fixture(scope="module", params=CASES, ids=lambda p: p.stem)
def kit(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    config: Path = request.param
    return generate(config, tmp_path_factory.mktemp(config.stem), "--rule-label", "release=kps")


def test_every_object_is_valid_as_the_api_server_reads_it(kit: Path) -> None:
    objects = load_objects(kit)
    assert {"StatefulSet", "ServiceMonitor", "PrometheusRule", "Secret"} <= {
        o["kind"] for o in objects
    }
    assert {(o["kind"], o["metadata"]["name"]): problems(o) for o in objects if problems(o)} == {}


def test_kubectl_builds_the_same_objects_from_the_kustomization_offline(kit: Path) -> None:
    def key(obj: dict[str, Any]) -> tuple[str, str]:
        return obj["kind"], obj["metadata"]["name"]

    assert sorted(kubectl_kustomize(kit), key=key) == sorted(load_objects(kit), key=key)


def test_kubectl_decodes_the_statefulset_into_its_types_without_losing_a_field(kit: Path) -> None:
    path = kit / "exporter" / "statefulset.yaml"
    assert lost_in(yaml.safe_load(path.read_text()), kubectl_decoded(path)) == []


def test_promtool_and_amtool_pass_over_the_kit(kit: Path) -> None:
    out = io.StringIO()
    assert check_kubernetes(kit, out) == [], out.getvalue()
    steps = ["promtool check rules", "promtool test rules", "amtool check-config (configSecret)"]
    steps.append("amtool config routes test (configSecret)")
    if kind(load_objects(kit), "AlertmanagerConfig"):
        steps.append("amtool config routes test (AlertmanagerConfig business-exporter)")
    for step in steps:
        assert f"kubernetes: {step}: OK" in out.getvalue()


def test_check_bundle_checks_the_kit_when_there_is_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(SMALL)
    assert main(["generate", "--config", config, "--out", str(tmp_path / "plain")]) == 0
    assert main(["check", "--config", config, "--bundle", str(tmp_path / "plain")]) == 0
    assert "kubernetes:" not in capsys.readouterr().out
    generate(SMALL, tmp_path / "kit")
    assert main(["check", "--config", config, "--bundle", str(tmp_path / "kit")]) == 0
    assert "kubernetes: promtool test rules: OK" in capsys.readouterr().out


def test_a_rule_group_promtool_refuses_fails_the_check(tmp_path: Path) -> None:
    kit = generate(SMALL, tmp_path)
    path = kit / "rules" / "revenue.yaml"
    path.write_text(path.read_text().replace("expr: ", "expr: sum(", 1))
    assert "kubernetes: promtool check rules" in check_kubernetes(kit, io.StringIO())


def test_an_alertmanagerconfig_that_routes_otherwise_fails_the_check(tmp_path: Path) -> None:
    kit = generate(SMALL, tmp_path)
    path = kit / "alertmanager" / "alertmanagerconfig.yaml"
    path.write_text(path.read_text().replace("value: Watchdog\n", "value: Watchdogs\n", 1))
    failed = "kubernetes: amtool config routes test (AlertmanagerConfig business-exporter)"
    assert check_kubernetes(kit, io.StringIO()) == [failed]


@pytest.mark.parametrize("config", CASES[:3], ids=lambda p: p.stem)
def test_generating_twice_writes_the_same_bytes(config: Path, tmp_path: Path) -> None:
    first, second = generate(config, tmp_path / "a"), generate(config, tmp_path / "b")
    assert read_tree(first) == read_tree(second)
    assert (
        main(["generate", "--config", str(config), "--out", str(tmp_path / "a"), "--kubernetes"])
        == 0
    )
    assert read_tree(first) == read_tree(second)


def test_the_plain_bundle_is_the_same_with_the_kit_or_without(tmp_path: Path) -> None:
    generate(REFERENCE, tmp_path / "kit")
    assert main(["generate", "--config", str(REFERENCE), "--out", str(tmp_path / "plain")]) == 0
    assert read_tree(tmp_path / "kit", BUNDLE_DIRS) == read_tree(tmp_path / "plain", BUNDLE_DIRS)


def test_write_removes_stale_kit_files_and_keeps_hand_written_ones(tmp_path: Path) -> None:
    kit = generate(SMALL, tmp_path)
    stale, mine = kit / "rules" / "gone.yaml", kit / "rules" / "mine.yaml"
    stale.write_text(HEADER + "kind: PrometheusRule\n")
    mine.write_text("kind: PrometheusRule\n")
    generate(SMALL, tmp_path)
    assert not stale.exists()
    assert mine.exists()


def test_the_committed_kit_is_generated_from_the_reference_config(tmp_path: Path) -> None:
    committed = ROOT / REFERENCE_OUT
    generated = generate(REFERENCE, tmp_path).parent
    dirs = tuple(OWNED_DIRS)
    assert_same_files(read_tree(generated, dirs), read_tree(committed, dirs), "run `make bundle`")


def test_namespaces_and_selector_labels_come_from_the_flags(tmp_path: Path) -> None:
    flags = ["--namespace", "probes", "--alertmanager-namespace", "alerting"]
    flags += ["--grafana-namespace", "dashboards", "--rule-label", "release=kps"]
    flags += ["--rule-label", "team=platform", "--monitor-label", "release=kps"]
    flags += ["--alertmanager-config-label", "alertmanager=main"]
    objects = load_objects(generate(CASES[1], tmp_path, *flags))

    def where(o: dict[str, Any]) -> str:
        return str(o["metadata"]["namespace"])

    assert {where(o) for o in kind(objects, "PrometheusRule") + kind(objects, "StatefulSet")} == {
        "probes"
    }
    assert {where(o) for o in kind(objects, "AlertmanagerConfig") + kind(objects, "Secret")} == {
        "alerting"
    }
    boards = [o for o in objects if o["metadata"]["labels"].get("grafana_dashboard") == "1"]
    assert len(boards) == 3
    assert {where(o) for o in boards} == {"dashboards"}
    for rule in kind(objects, "PrometheusRule"):
        assert {"release": "kps", "team": "platform"}.items() <= rule["metadata"]["labels"].items()
    [monitor] = kind(objects, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "kps"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["probes"]}
    [amc] = kind(objects, "AlertmanagerConfig")
    assert amc["metadata"]["labels"]["alertmanager"] == "main"


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--rule-label", "release", "must be KEY=VALUE"),
        ("--rule-label", "release=not ok", "is not a Kubernetes label value"),
        ("--namespace", "Monitoring", "is not a Kubernetes namespace name"),
        ("--replicas", "0", "must be a whole number of 1 or more"),
    ],
)
def test_a_bad_kubernetes_flag_is_refused(
    flag: str, value: str, message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["generate", "--config", str(REFERENCE), "--out", str(tmp_path), flag, value])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_grafana_gets_the_dashboards_and_their_datasource_from_labelled_config_maps(
    tmp_path: Path,
) -> None:
    url = "http://prometheus.probes.svc:9090"
    kit = generate(REFERENCE, tmp_path, "--kubernetes-prometheus-url", url)
    objects = load_objects(kit)
    boards = {
        o["metadata"]["name"]: o for o in objects if "grafana_dashboard" in o["metadata"]["labels"]
    }
    for name in ("executive", "operations", "engineering"):
        data = boards[f"business-exporter-dashboard-{name}"]["data"]
        assert data == {
            f"{name}.json": (tmp_path / "grafana" / "dashboards" / f"{name}.json").read_text()
        }
    [source] = [o for o in objects if o["metadata"]["labels"].get("grafana_datasource") == "1"]
    [text] = source["data"].values()
    [datasource] = yaml.safe_load(text)["datasources"]
    assert datasource["url"] == url
    assert datasource["uid"] == "business-exporter-prometheus"


def test_each_rule_file_is_a_prometheus_rule_with_its_groups_and_tests_beside_it(
    tmp_path: Path,
) -> None:
    kit = generate(REFERENCE, tmp_path)
    rules = {
        o["metadata"]["annotations"]["business-exporter/rule-file"]: o
        for o in kind(load_objects(kit), "PrometheusRule")
    }
    plain = sorted(p.name for p in (tmp_path / "rules").glob("*.rules.yml"))
    assert sorted(rules) == plain
    for name, rule in rules.items():
        assert rule["spec"] == yaml.safe_load((tmp_path / "rules" / name).read_text())
    assert read_tree(kit / "rules" / "tests") == read_tree(tmp_path / "rules" / "tests")
