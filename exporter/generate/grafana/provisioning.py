"""grafana/provisioning/: the Prometheus datasource and the provider of the dashboard files.

Kept apart from the dashboards so the command line can read the options without importing
grafana-foundation-sdk.
"""

from __future__ import annotations

from dataclasses import dataclass

from exporter.generate.model import DashboardProvider, GrafanaDatasource

DASHBOARDS_DIR = "grafana/dashboards"
DATASOURCES_DIR = "grafana/provisioning/datasources"
PROVIDERS_DIR = "grafana/provisioning/dashboards"
OWNED_DIRS = (DASHBOARDS_DIR, DATASOURCES_DIR, PROVIDERS_DIR)
# Every panel names its datasource by this uid; the dashboards link to each other by the tag.
DATASOURCE_UID = "business-exporter-prometheus"
DATASOURCE_NAME = "Prometheus (business-exporter)"
TAG = "business-exporter"
FOLDER = "Business exporter"


@dataclass(frozen=True, slots=True)
class GrafanaOptions:
    """Where Grafana finds Prometheus, and where it reads the dashboard files from.

    The default path is where docker-compose.yml mounts the dashboards.
    """

    prometheus_url: str = "http://127.0.0.1:9090"
    dashboards_path: str = "/var/lib/grafana/dashboards/business-exporter"


def datasource(options: GrafanaOptions, scrape_interval: str) -> GrafanaDatasource:
    """`scrape_interval` is Prometheus': $__rate_interval then always spans enough samples."""
    return GrafanaDatasource(
        DATASOURCE_NAME, DATASOURCE_UID, options.prometheus_url, scrape_interval
    )


def provider(options: GrafanaOptions) -> DashboardProvider:
    return DashboardProvider(TAG, FOLDER, options.dashboards_path)
