"""What the builders return: small immutable values that only render.py turns into files."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AlertingRule:
    alert: str
    expr: str
    for_: str = ""  # a Prometheus duration, "" for none
    keep_firing_for: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordingRule:
    record: str
    expr: str
    labels: dict[str, str] = field(default_factory=dict)


Rule = AlertingRule | RecordingRule


@dataclass(frozen=True, slots=True)
class RuleGroup:
    name: str
    rules: tuple[Rule, ...]
    interval: str = ""  # "" inherits the global evaluation_interval


@dataclass(frozen=True, slots=True)
class RuleFile:
    """rules/<name>.rules.yml"""

    name: str
    groups: tuple[RuleGroup, ...]


@dataclass(frozen=True, slots=True)
class Series:
    """One input series of a promtool test: `metric{labels}` and expanding notation values."""

    series: str
    values: str


@dataclass(frozen=True, slots=True)
class ExpectedAlert:
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertTest:
    eval_time: str
    alertname: str
    exp_alerts: tuple[ExpectedAlert, ...] = ()  # empty: the alert must not fire


@dataclass(frozen=True, slots=True)
class ExpectedSample:
    labels: str  # in exposition form: 'metric{a="b"}'
    value: float


@dataclass(frozen=True, slots=True)
class PromqlTest:
    expr: str
    eval_time: str
    exp_samples: tuple[ExpectedSample, ...]


@dataclass(frozen=True, slots=True)
class TestCase:
    """One promtool test group: input series and what must hold at given times."""

    name: str
    input_series: tuple[Series, ...]
    alert_rule_test: tuple[AlertTest, ...] = ()
    promql_expr_test: tuple[PromqlTest, ...] = ()
    interval: str = "1m"


@dataclass(frozen=True, slots=True)
class RuleTestFile:
    """rules/tests/<name>.test.yml, run by `promtool test rules`."""

    name: str
    rule_files: tuple[str, ...]  # relative to the test file
    tests: tuple[TestCase, ...]
    evaluation_interval: str = "1m"
    # Groups that read another group's output at the same instant, producers first:
    # promtool otherwise evaluates the groups in a random order.
    group_eval_order: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScrapeSecurity:
    """How Prometheus reaches an exporter behind its --web.config.file: HTTPS, basic auth."""

    ca_file: str
    username: str
    password_file: str


@dataclass(frozen=True, slots=True)
class ScrapeJob:
    job_name: str
    targets: tuple[str, ...]
    security: ScrapeSecurity | None = None


@dataclass(frozen=True, slots=True)
class PrometheusConfig:
    """prometheus/prometheus.yml: intervals, rule files, Alertmanagers, scrape jobs."""

    scrape_interval: str
    evaluation_interval: str
    rule_files: tuple[str, ...]  # relative to prometheus.yml
    alertmanagers: tuple[str, ...]  # host:port
    scrape_jobs: tuple[ScrapeJob, ...]


@dataclass(frozen=True, slots=True)
class GrafanaDatasource:
    """grafana/provisioning/datasources/*.yml: the Prometheus every dashboard panel reads."""

    name: str
    uid: str
    url: str
    scrape_interval: str  # Grafana's `timeInterval`: the floor of $__interval and $__rate_interval


@dataclass(frozen=True, slots=True)
class DashboardProvider:
    """grafana/provisioning/dashboards/*.yml: a folder of dashboard files Grafana loads."""

    name: str
    folder: str
    path: str
