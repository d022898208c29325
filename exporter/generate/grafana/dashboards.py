"""grafana/: the executive, operations and engineering dashboards and their provisioning.

The dashboards are built with grafana-foundation-sdk (Grafana 11, schemaVersion 41). Every panel
reads the Prometheus datasource by the fixed uid the provisioned datasource carries, and the
dashboards link to each other by their shared tag.
"""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as model

from exporter.config import Config
from exporter.generate import render
from exporter.generate.grafana.engineering import engineering
from exporter.generate.grafana.executive import executive
from exporter.generate.grafana.operations import operations
from exporter.generate.grafana.provisioning import (
    DASHBOARDS_DIR,
    DATASOURCES_DIR,
    PROVIDERS_DIR,
    TAG,
    GrafanaOptions,
    datasource,
    provider,
)


def dashboards(config: Config) -> dict[str, model.Dashboard]:
    """The three dashboards by file name (without .json)."""
    return {
        "executive": executive(config),
        "operations": operations(),
        "engineering": engineering(config),
    }


def grafana_files(config: Config, options: GrafanaOptions, scrape_interval: str) -> dict[str, str]:
    """Every file under grafana/, path -> text."""
    files = {
        f"{DASHBOARDS_DIR}/{name}.json": render.dashboard_file(board)
        for name, board in dashboards(config).items()
    }
    source = datasource(options, scrape_interval)
    files[f"{DATASOURCES_DIR}/prometheus.yml"] = render.grafana_datasources_file(source)
    files[f"{PROVIDERS_DIR}/{TAG}.yml"] = render.grafana_providers_file(provider(options))
    return files
