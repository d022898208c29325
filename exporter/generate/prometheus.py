"""prometheus/prometheus.yml: scrape the exporter, load the bundle's rules, alert Alertmanager."""

from __future__ import annotations

from dataclasses import dataclass

from exporter.conventions import EXPORTER_JOB
from exporter.generate.model import PrometheusConfig, ScrapeJob, ScrapeSecurity

# Relative to prometheus.yml, as Prometheus resolves rule_files: the bundle's rules/ folder.
RULE_FILES = ("../rules/*.rules.yml",)


@dataclass(frozen=True, slots=True)
class PrometheusOptions:
    """What the config file cannot know: where things run, and how often Prometheus looks."""

    # Every replica of a sharded exporter (`serve --shard I/N`): Prometheus scrapes them all.
    exporters: tuple[str, ...] = ("127.0.0.1:9117",)
    alertmanager: str = "127.0.0.1:9093"
    scrape_interval: str = "15s"
    evaluation_interval: str = "15s"
    # Set when the exporters serve HTTPS with basic auth (a hardened deployment).
    exporter_security: ScrapeSecurity | None = None


def prometheus_config(options: PrometheusOptions) -> PrometheusConfig:
    return PrometheusConfig(
        scrape_interval=options.scrape_interval,
        evaluation_interval=options.evaluation_interval,
        rule_files=RULE_FILES,
        alertmanagers=(options.alertmanager,),
        scrape_jobs=(ScrapeJob(EXPORTER_JOB, options.exporters, options.exporter_security),),
    )
