"""The engineering dashboard: latency distribution and quantiles, failures by reason, and the
exporter's own health (scheduler lag, concurrency, missed runs, reloads, targets, scrapes)."""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from exporter import conventions as c
from exporter.config import Config
from exporter.generate.grafana import facts
from exporter.generate.grafana.panels import (
    PanelBuilder,
    Query,
    Section,
    Spec,
    dashboard,
    heatmap_panel,
    select,
    timeseries,
)

UID = "business-exporter-engineering"
TITLE = "Business exporter: engineering"
SUMMARY = (
    "Why it is broken: latency distribution and p50/p95/p99 per probe, failures by reason, "
    "error ratios, and the exporter's own health."
)
_PROBE, _TENANT, _SERVICE = c.LABEL_PROBE, c.LABEL_TENANT, c.LABEL_SERVICE
_RATE = "$__rate_interval"
_SHORT = c.SLO_WINDOWS[0]  # the window of the recorded p95: the other quantiles use it too
_EXPORTER = f'{{job="{c.EXPORTER_JOB}"}}'


def engineering(config: Config) -> model.Dashboard:
    return dashboard(
        UID,
        TITLE,
        SUMMARY,
        (
            Section(1, "Latency", _latency(config)),
            Section(5, "Errors", _errors()),
            Section(8, "Exporter", _exporter()),
        ),
    )


def _latency(config: Config) -> tuple[PanelBuilder, ...]:
    buckets = select(f"{c.PROBE_DURATION}_bucket")
    heat = Spec(
        2,
        "Probe duration heatmap",
        "Probe runs by duration bucket over time, all selected probes together.",
        (
            Query(
                f"sum by (le) (increase({buckets}[{_RATE}]))",
                "{{le}}",
                format=PromQueryFormat.HEATMAP,
            ),
        ),
        "s",
        (24, 8),
    )
    rate = f"rate({buckets}[{_SHORT}])"
    quantiles = Spec(
        3,
        f"Latency p50 / p95 / p99 by probe ({_SHORT})",
        "Quantiles of probe duration, per probe; p95 is the recorded SLO series.",
        (
            Query(f"histogram_quantile(0.5, {rate})", "{{probe}} p50"),
            Query(select(c.DURATION_P95.format(level=_PROBE)), "{{probe}} p95"),
            Query(f"histogram_quantile(0.99, {rate})", "{{probe}} p99"),
        ),
        "s",
    )
    panels: list[PanelBuilder] = [heatmap_panel(heat), timeseries(quantiles)]
    if facts.has_tenants(config):
        panels.append(timeseries(_tenant_p95(config)))
    return tuple(panels)


def _tenant_p95(config: Config) -> Spec:
    queries = [
        Query(select(c.DURATION_P95.format(level=_TENANT), _TENANT), "{{tenant}} p95"),
    ]
    if config.tiers:
        queries.append(Query(c.OBJECTIVE_LATENCY_SECONDS, "{{tier}} objective"))
    return Spec(
        4,
        f"p95 latency by tenant ({_SHORT})",
        "Each tenant's p95 probe duration, and each tier's latency objective.",
        tuple(queries),
        "s",
    )


def _errors() -> tuple[PanelBuilder, ...]:
    failed = select(f"{c.PROBE_RUNS}_total", fixed=f'{c.LABEL_RESULT}!="{c.RESULT_SUCCESS}"')
    reasons = Spec(
        6,
        "Failures by reason",
        "Failed probe runs per second, by failure reason.",
        (Query(f"sum by ({c.LABEL_RESULT}) (rate({failed}[{_RATE}]))", "{{result}}"),),
        "ops",
    )
    availability = select(c.AVAILABILITY.format(level=_SERVICE, window=_SHORT), _SERVICE)
    ratio = Spec(
        7,
        f"Error ratio by service ({_SHORT})",
        "Share of failed probe runs, by service.",
        (Query(f"1 - {availability}", "{{service}}"),),
        "percentunit",
    )
    return (timeseries(reasons), timeseries(ratio).min(0))


def _exporter() -> tuple[PanelBuilder, ...]:
    lag = f"sum by (instance, le) (rate({c.SCHEDULER_LAG}_bucket[{_RATE}]))"
    return tuple(
        timeseries(spec)
        for spec in (
            _small(
                9,
                "Scheduler lag",
                "How late probe runs start against their schedule (p50, p99).",
                (
                    Query(f"histogram_quantile(0.5, {lag})", "{{instance}} p50"),
                    Query(f"histogram_quantile(0.99, {lag})", "{{instance}} p99"),
                ),
                "s",
            ),
            _small(
                10,
                "Probes in flight",
                "Probes running now, against the exporter's concurrency limit.",
                (
                    Query(c.PROBES_IN_FLIGHT, "{{instance}} in flight"),
                    Query(c.MAX_CONCURRENT_PROBES, "{{instance}} limit"),
                ),
            ),
            _small(
                11,
                "Missed runs",
                "Runs skipped because the previous run of the target overran its interval.",
                (
                    Query(
                        f"sum by (instance) (rate({c.MISSED_RUNS}_total[{_RATE}]))", "{{instance}}"
                    ),
                ),
                "ops",
            ),
            _small(
                12,
                "Config reloads",
                "Config reloads by result; a failed reload keeps the old config running.",
                (
                    Query(
                        f"sum by (instance, {c.LABEL_RESULT}) "
                        f"(increase({c.CONFIG_RELOADS}_total[{_RATE}]))",
                        "{{instance}} {{result}}",
                    ),
                    Query(c.CONFIG_RELOAD_SUCCESSFUL, "{{instance}} last reload successful"),
                ),
            ),
            _small(
                13,
                "Targets",
                "Targets each exporter probes.",
                (Query(c.TARGETS, "{{instance}}"),),
            ),
            _small(
                14,
                "Scrape duration",
                "How long Prometheus takes to scrape the exporter's /metrics.",
                (Query(f"scrape_duration_seconds{_EXPORTER}", "{{instance}}"),),
                "s",
            ),
        )
    )


def _small(
    id_: int, title: str, description: str, queries: tuple[Query, ...], unit: str = "short"
) -> Spec:
    return Spec(id_, title, description, queries, unit, (8, 7))
