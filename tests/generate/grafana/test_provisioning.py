"""Grafana's provisioning: the datasource every panel reads, and the dashboards' provider."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from exporter.cli import main
from exporter.config import load_config
from exporter.generate.bundle import BundleOptions, build
from exporter.generate.grafana.provisioning import DATASOURCE_UID, GrafanaOptions
from exporter.generate.prometheus import PrometheusOptions
from tests.generate.grafana.dashboards import DASHBOARDS, load, panels
from tests.generate.grafana.test_dashboards import REFERENCE


def test_every_panel_reads_the_provisioned_datasource() -> None:
    files = build(load_config(REFERENCE, offline=True))
    provisioned = yaml.safe_load(files["grafana/provisioning/datasources/prometheus.yml"])
    (source,) = provisioned["datasources"]
    assert (source["uid"], source["type"]) == (DATASOURCE_UID, "prometheus")
    uids = {
        ref["uid"]
        for board in load(files).values()
        for panel in panels(board)
        for ref in [panel["datasource"], *(t["datasource"] for t in panel["targets"])]
    }
    uids |= {v["datasource"]["uid"] for b in load(files).values() for v in b["templating"]["list"]}
    assert uids == {DATASOURCE_UID}


def test_provisioning_points_at_the_given_prometheus_and_dashboards_path() -> None:
    options = BundleOptions(
        PrometheusOptions(scrape_interval="5s"),
        GrafanaOptions("http://prom.example:9090", "/srv/dashboards"),
    )
    files = build(load_config(REFERENCE, offline=True), options)
    (source,) = yaml.safe_load(files["grafana/provisioning/datasources/prometheus.yml"])[
        "datasources"
    ]
    assert source["url"] == "http://prom.example:9090"
    assert source["jsonData"] == {"timeInterval": "5s"}
    assert source["isDefault"] is False
    (provider,) = yaml.safe_load(files["grafana/provisioning/dashboards/business-exporter.yml"])[
        "providers"
    ]
    assert (provider["type"], provider["options"]["path"]) == ("file", "/srv/dashboards")
    # The default path is where docker-compose.yml mounts the dashboards.
    default = build(load_config(REFERENCE, offline=True))
    assert (
        "/var/lib/grafana/dashboards/business-exporter"
        in default["grafana/provisioning/dashboards/business-exporter.yml"]
    )


def test_generate_takes_the_grafana_options(tmp_path: Path) -> None:
    argv = ["generate", "--config", str(REFERENCE), "--out", str(tmp_path)]
    argv += ["--prometheus-url", "http://prometheus:9090", "--grafana-dashboards-path", "/d"]
    assert main(argv) == 0
    provisioning = tmp_path / "grafana" / "provisioning"
    assert (
        "url: http://prometheus:9090" in (provisioning / "datasources/prometheus.yml").read_text()
    )
    assert "path: /d" in (provisioning / "dashboards/business-exporter.yml").read_text()
    for name in DASHBOARDS:
        assert json.loads((tmp_path / f"grafana/dashboards/{name}.json").read_text())["panels"]
