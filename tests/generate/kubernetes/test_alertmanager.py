"""The Alertmanager side of the kit: the AlertmanagerConfig, as prometheus-operator renders it,
says what the bundle's alertmanager.yml says; what the CRD cannot hold is refused with its path
and the plain config goes in a Secret; no notification secret is ever written out."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.cli import main
from exporter.generate.kubernetes.amc import amc_spec
from exporter.generate.kubernetes.check import load_objects
from exporter.generate.kubernetes.meta import KubernetesError
from exporter.generate.kubernetes.operator_view import operator_config

ROOT = Path(__file__).parents[3]
REFERENCE = ROOT / "examples" / "marketedge.yaml"
NOTIFICATION_SECRET = "business-exporter-alertmanager"
# Alertmanager's own reading of `global`: each smtp_* setting is the default of an email field.
SMTP = {
    "smtp_smarthost": "smarthost",
    "smtp_from": "from",
    "smtp_auth_username": "auth_username",
    "smtp_auth_password_file": "auth_password_file",
    "smtp_require_tls": "require_tls",
}


def without_time_zones(tmp_path: Path, source: Path = REFERENCE) -> Path:
    """A config with its time intervals in UTC: all of it then fits the CRD."""
    path = tmp_path / f"{source.stem}-utc.yaml"
    path.write_text(re.sub(r"\n\s*location: [\w/]+", "", source.read_text()))
    return path


CONFIGS = {
    "marketedge": REFERENCE,
    "dotmac": ROOT / "examples" / "dotmac.yaml",
    "escalation": ROOT / "tests" / "testdata" / "generate" / "in-escalation.yaml",
    "tenants": ROOT / "tests" / "testdata" / "generate" / "in-tenants.yaml",
}


def generate(config: Path, out: Path) -> dict[str, dict[str, Any]]:
    """The bundle and kit of `config` under `out`; the kit's objects by kind (ConfigMaps and
    Secrets by name)."""
    assert main(["generate", "--config", str(config), "--out", str(out), "--kubernetes"]) == 0
    objects = load_objects(out / "kubernetes")
    return {
        o["metadata"]["name"] if o["kind"] in ("ConfigMap", "Secret") else o["kind"]: o
        for o in objects
    }


def effective(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """What an Alertmanager config means, whatever its spelling: names without `prefix`, the
    global SMTP settings in each email receiver, secrets by file name, no template paths."""
    out = copy.deepcopy(config)
    smtp = {SMTP[key]: value for key, value in out.pop("global", {}).items()}
    out.pop("templates", None)
    for receiver in out["receivers"]:
        receiver["name"] = receiver["name"].removeprefix(prefix)
        if "email_configs" in receiver:
            receiver["email_configs"] = [{**smtp, **e} for e in receiver["email_configs"]]
    intervals = out.pop("time_intervals", []) + out.pop("mute_time_intervals", [])
    for interval in intervals:
        interval["name"] = interval["name"].removeprefix(prefix)
        for spec in interval["time_intervals"]:
            if "days_of_month" in spec:
                spec["days_of_month"] = [
                    d if ":" in d else f"{d}:{d}" for d in spec["days_of_month"]
                ]
    if intervals:
        out["time_intervals"] = intervals
    _unprefix_route(out["route"], prefix)
    meaning: dict[str, Any] = _file_names(out)
    return meaning


def _unprefix_route(route: dict[str, Any], prefix: str) -> None:
    route["receiver"] = route["receiver"].removeprefix(prefix)
    for key in ("mute_time_intervals", "active_time_intervals"):
        if key in route:
            route[key] = [name.removeprefix(prefix) for name in route[key]]
    for child in route.get("routes", []):
        _unprefix_route(child, prefix)


def _file_names(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: Path(v).name if k.endswith("_file") else _file_names(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_file_names(item) for item in node]
    return node


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_the_alertmanagerconfig_says_what_alertmanager_yml_says(case: str, tmp_path: Path) -> None:
    objects = generate(without_time_zones(tmp_path, CONFIGS[case]), tmp_path / "out")
    custom = objects["AlertmanagerConfig"]
    namespace, name = custom["metadata"]["namespace"], custom["metadata"]["name"]
    rendered = operator_config(
        custom["spec"], namespace, name, ["/etc/alertmanager/templates/x.tmpl"]
    )
    plain = yaml.safe_load((tmp_path / "out" / "alertmanager" / "alertmanager.yml").read_text())
    assert effective(rendered, f"{namespace}/{name}/") == effective(plain)
    templates = objects["business-exporter-alertmanager-templates"]["data"]
    bundled = {
        p.name: p.read_text()
        for p in (tmp_path / "out" / "alertmanager" / "templates").glob("*.tmpl")
    }
    assert templates == bundled


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_the_config_secret_holds_alertmanager_yml_with_files_where_the_operator_mounts_them(
    case: str, tmp_path: Path
) -> None:
    objects = generate(without_time_zones(tmp_path, CONFIGS[case]), tmp_path / "out")
    data = dict(objects["business-exporter-alertmanager-config"]["stringData"])
    config = yaml.safe_load(data.pop("alertmanager.yaml"))
    plain = yaml.safe_load((tmp_path / "out" / "alertmanager" / "alertmanager.yml").read_text())
    assert config["templates"] == ["/etc/alertmanager/config/*.tmpl"]
    assert effective(config) == effective(plain)
    files = re.findall(r"_file: (\S+)", yaml.safe_dump(config))
    assert all(f.startswith(f"/etc/alertmanager/secrets/{NOTIFICATION_SECRET}/") for f in files)
    assert sorted(data) == sorted(
        p.name for p in (tmp_path / "out" / "alertmanager" / "templates").glob("*.tmpl")
    )


def test_notification_secrets_are_selectors_of_one_secret_never_paths_or_values(
    tmp_path: Path,
) -> None:
    custom = generate(without_time_zones(tmp_path), tmp_path / "out")["AlertmanagerConfig"]
    text = yaml.safe_dump(custom)
    assert "/etc/" not in text
    selectors = re.findall(r"name: (\S+)\n\s+key: (\S+)|key: (\S+)\n\s+name: (\S+)", text)
    plain = (tmp_path / "out" / "alertmanager" / "alertmanager.yml").read_text()
    files = {Path(p).name for p in re.findall(r"_file: (\S+)", plain)}
    keys = {s[1] or s[2] for s in selectors}
    assert keys == files
    assert {s[0] or s[3] for s in selectors} == {NOTIFICATION_SECRET}


def test_the_reference_config_gets_the_plain_config_and_is_told_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    objects = generate(REFERENCE, tmp_path)
    warning = capsys.readouterr().err
    assert (
        "time_intervals[business_hours].location: the AlertmanagerConfig CRD has no time zone"
        in warning
    )
    assert "AlertmanagerConfig" not in objects
    assert "business-exporter-alertmanager-templates" not in objects
    assert "business-exporter-alertmanager-config" in objects
    fragment = yaml.safe_load(
        (tmp_path / "kubernetes" / "alertmanager" / "alertmanager-spec.yaml").read_text()
    )
    assert fragment == {
        "configSecret": "business-exporter-alertmanager-config",
        "secrets": [NOTIFICATION_SECRET],
    }


def slack(config: dict[str, Any]) -> dict[str, Any]:
    """The first Slack integration of a config."""
    receiver = next(r for r in config["receivers"] if "slack_configs" in r)
    integration: dict[str, Any] = receiver["slack_configs"][0]
    return integration


def _plain(tmp_path: Path) -> dict[str, Any]:
    generate(CONFIGS["dotmac"], tmp_path)
    loaded: dict[str, Any] = yaml.safe_load(
        (tmp_path / "alertmanager" / "alertmanager.yml").read_text()
    )
    return loaded


def a_global_setting_no_receiver_holds(config: dict[str, Any]) -> None:
    config["global"]["resolve_timeout"] = "5m"


def a_slack_field_the_translation_does_not_know(config: dict[str, Any]) -> None:
    slack(config)["actions"] = []


def a_webhook_with_tls_settings(config: dict[str, Any]) -> None:
    hook = {"url": "https://hook.example.com", "http_config": {"tls_config": {}}}
    config["receivers"].append({"name": "hook", "webhook_configs": [hook]})


def a_route_with_an_old_style_match(config: dict[str, Any]) -> None:
    config["route"]["routes"][0]["match"] = {"severity": "critical"}


def a_receiver_kind_the_translation_does_not_know(config: dict[str, Any]) -> None:
    config["receivers"][0]["opsgenie_configs"] = [{}]


def two_secret_files_of_one_name(config: dict[str, Any]) -> None:
    elsewhere = "/elsewhere/" + Path(slack(config)["api_url_file"]).name
    config["receivers"].append({"name": "other", "slack_configs": [{"api_url_file": elsewhere}]})


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (a_global_setting_no_receiver_holds, "global.resolve_timeout"),
        (a_slack_field_the_translation_does_not_know, "slack_configs.actions"),
        (a_webhook_with_tls_settings, "http_config.tls_config"),
        (a_route_with_an_old_style_match, "route.routes[0].match"),
        (a_receiver_kind_the_translation_does_not_know, "opsgenie_configs"),
        (two_secret_files_of_one_name, "would share the Secret key"),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_what_the_crd_cannot_hold_is_refused_with_its_path_never_dropped(
    change: Callable[[dict[str, Any]], None], where: str, tmp_path: Path
) -> None:
    plain = _plain(tmp_path)
    amc_spec(plain, NOTIFICATION_SECRET)
    change(plain)
    with pytest.raises(KubernetesError, match=re.escape(where)):
        amc_spec(plain, NOTIFICATION_SECRET)
