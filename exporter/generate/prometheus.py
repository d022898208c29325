"""prometheus/prometheus.yml: scrape the exporter (and the applications running the in-app
integration, when given), load the bundle's rules, alert Alertmanager."""

from __future__ import annotations

from dataclasses import dataclass

from exporter.conventions import EXPORTER_JOB
from exporter.generate.model import PrometheusConfig, ScrapeJob, ScrapeSecurity

# The job of the applications' own /metrics (business_app_*, exporter/integration/): the app
# rules select by metric name, so any job would do; this one is the bundle's.
APP_JOB = "business_app"
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
    # Instances of the application running exporter.integration (`generate --app`): without
    # a scrape job for them, the app rules (rules/app.rules.yml) have nothing to fire on.
    apps: tuple[str, ...] = ()


def prometheus_config(options: PrometheusOptions) -> PrometheusConfig:
    return PrometheusConfig(
        scrape_interval=options.scrape_interval,
        evaluation_interval=options.evaluation_interval,
        rule_files=RULE_FILES,
        alertmanagers=(options.alertmanager,),
        scrape_jobs=_scrape_jobs(options),
    )


def _scrape_jobs(options: PrometheusOptions) -> tuple[ScrapeJob, ...]:
    exporter = ScrapeJob(EXPORTER_JOB, options.exporters, options.exporter_security)
    return (exporter, ScrapeJob(APP_JOB, options.apps)) if options.apps else (exporter,)
