"""Alerts on the in-app integration's series (exporter/integration/), and their promtool tests.

Generated when the config has an `app:` block. The series come from the application's own
/metrics, whatever job scrapes it, so the rules select by metric name alone.
- a required route not registered pages at once: the seeds' release, caught in production;
- a dependency that failed at startup (the app started degraded) pages at once, and resolves
  when the dependency's check passes again;
- a dependency that fails later is an alert after a minute of failed checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from exporter import conventions as c
from exporter.config import Config
from exporter.generate.model import (
    AlertingRule,
    AlertTest,
    ExpectedAlert,
    RuleFile,
    RuleGroup,
    RuleTestFile,
    TestCase,
)
from exporter.generate.rules import messages as m
from exporter.generate.ruletests.series import series

APP_FILE = "app"
DEPENDENCY_DOWN_FOR = "1m"
TEST_JOB = "marketedge_api"  # any job: the rules do not select one
TEST_INSTANCE = "10.0.0.7:8000"
_PLACES = ("instance", "job", c.LABEL_ROUTE, c.LABEL_CHECK, c.LABEL_KIND)
_STARTUP_FAILED = f"{c.APP_STARTUP_CHECK} == 0"
_DEPENDENCY_DOWN = f"{c.APP_DEPENDENCY_UP} == 0"


@dataclass(frozen=True, slots=True)
class AppAlert:
    """One rule; annotations take {instance}, {job}, {route}, {check} and {kind}."""

    alert: str
    expr: str
    severity: str
    annotations: dict[str, str]
    for_: str = ""


APP_ALERTS = (
    AppAlert(
        c.ALERT_APP_ROUTE_MISSING,
        f"{c.APP_ROUTE_REGISTERED} == 0",
        "critical",
        {
            c.ANNOTATION_SUMMARY: "Route {route} is not registered in {instance}",
            c.ANNOTATION_DESCRIPTION: (
                "The app at {instance} (job {job}) is running without its required route "
                "{route}: requests to it answer 404. A router probably failed to import; the "
                "app's log at startup says why. Deploy a release that passes "
                "`business-exporter validate-app`."
            ),
        },
    ),
    AppAlert(
        c.ALERT_APP_STARTUP_FAILED,
        f'{c.APP_STARTUP_CHECK}{{{c.LABEL_KIND}!="route"}} == 0\n'
        f"unless on (job, instance, {c.LABEL_CHECK}) {c.APP_DEPENDENCY_UP} == 1",
        "critical",
        {
            c.ANNOTATION_SUMMARY: "{instance} started degraded: its {kind} check {check} failed",
            c.ANNOTATION_DESCRIPTION: (
                "The {kind} dependency {check} of the app at {instance} (job {job}) failed "
                "its startup check and is still failing: the app started degraded and reports "
                "not ready. Its /health/detailed says why."
            ),
        },
    ),
    AppAlert(
        c.ALERT_APP_DEPENDENCY_DOWN,
        f"{_DEPENDENCY_DOWN}\nunless on (job, instance, {c.LABEL_CHECK}) {_STARTUP_FAILED}",
        "high",
        {
            c.ANNOTATION_SUMMARY: "{kind} dependency {check} of {instance} is failing",
            c.ANNOTATION_DESCRIPTION: (
                "The app at {instance} (job {job}) has failed its checks of the {kind} "
                "dependency {check} for a minute. Its /health/detailed says why."
            ),
        },
        for_=DEPENDENCY_DOWN_FOR,
    ),
)


def app_group(config: Config) -> RuleGroup | None:
    """The app rules, or None for a config without `app:`."""
    if config.app is None:
        return None
    return RuleGroup(c.GROUP_APP, tuple(app_rule(config, alert) for alert in APP_ALERTS))


def app_rule_files(config: Config) -> list[RuleFile]:
    group = app_group(config)
    return [RuleFile(APP_FILE, (group,))] if group is not None else []


def app_rule(config: Config, alert: AppAlert) -> AlertingRule:
    return AlertingRule(
        alert=alert.alert,
        expr=alert.expr,
        for_=alert.for_,
        labels=app_labels(config, alert),
        annotations=_annotations(config, alert, {name: m.label(name) for name in _PLACES}),
    )


def app_labels(config: Config, alert: AppAlert) -> dict[str, str]:
    context = config.app.context if config.app is not None else None
    return {
        c.LABEL_SEVERITY: alert.severity,
        c.LABEL_CONTEXT: context or c.SELF_CONTEXT,
        c.LABEL_PRIORITY: c.PRIORITIES[alert.severity],
        c.LABEL_ESCALATION_LEVEL: "0",
    }


def _annotations(config: Config, alert: AppAlert, fill: Mapping[str, str]) -> dict[str, str]:
    out = {key: m.substitute(text, fill) for key, text in alert.annotations.items()}
    if config.app is not None and config.app.runbook_url:
        out[c.ANNOTATION_RUNBOOK_URL] = config.app.runbook_url
    return out


def app_test_files(config: Config) -> list[RuleTestFile]:
    """rules/tests/app.test.yml: each rule fires when it must, and stays silent when not."""
    if config.app is None:
        return []
    cases = (_route_missing(config), _startup_failed(config), _dependency_down(config))
    return [RuleTestFile(APP_FILE, (f"../{APP_FILE}.rules.yml",), cases)]


def _app(**labels: str) -> dict[str, str]:
    return {"job": TEST_JOB, "instance": TEST_INSTANCE, **labels}


def _expect(config: Config, name: str, labels: dict[str, str]) -> ExpectedAlert:
    alert = next(a for a in APP_ALERTS if a.alert == name)
    fill = {place: labels.get(place, "") for place in _PLACES}
    return ExpectedAlert({**labels, **app_labels(config, alert)}, _annotations(config, alert, fill))


def _route_missing(config: Config) -> TestCase:
    """Login goes missing at 2m and comes back at 4m; refresh stays registered."""
    name = c.ALERT_APP_ROUTE_MISSING
    login = _app(route="POST /api/v1/auth/login", policy="fail_fast")
    refresh = _app(route="POST /api/v1/auth/refresh", policy="fail_fast")
    return TestCase(
        name="a route that is not registered pages at once, and resolves once it is back",
        input_series=(
            series(c.APP_ROUTE_REGISTERED, login, [1, 1, 0, 0, 1]),
            series(c.APP_ROUTE_REGISTERED, refresh, [1] * 5),
        ),
        alert_rule_test=(
            AlertTest("1m", name),
            AlertTest("2m", name, (_expect(config, name, login),)),
            AlertTest("4m", name),
        ),
    )


def _startup_failed(config: Config) -> TestCase:
    """Redis failed at startup and is back at 3m; a missing route is the other alert's."""
    name = c.ALERT_APP_STARTUP_FAILED
    redis = _app(check="sessions", kind="redis", policy="degrade")
    route = _app(check="GET /api/v1/admin/feature-flags", kind="route")
    return TestCase(
        name="a dependency that failed at startup pages at once, until its check passes",
        input_series=(
            series(c.APP_STARTUP_CHECK, redis, [0] * 5),
            series(
                c.APP_DEPENDENCY_UP,
                _app(check="sessions", kind="redis", critical="true"),
                [0, 0, 0, 1, 1],
            ),
            series(c.APP_STARTUP_CHECK, {**route, c.LABEL_POLICY: "degrade"}, [0] * 5),
        ),
        alert_rule_test=(
            AlertTest("0m", name, (_expect(config, name, redis),)),
            AlertTest("3m", name),
        ),
    )


def _dependency_down(config: Config) -> TestCase:
    """The database passes at startup and fails from 2m: an alert at 3m, not at 2m. Redis,
    failing since startup, is the startup alert's."""
    name = c.ALERT_APP_DEPENDENCY_DOWN
    database = _app(check="database", kind="postgres")
    redis = _app(check="sessions", kind="redis")
    labels = {**database, c.LABEL_CRITICAL: "true"}
    return TestCase(
        name="a dependency failing after startup alerts after a minute",
        input_series=(
            series(c.APP_STARTUP_CHECK, {**database, c.LABEL_POLICY: "fail_fast"}, [1] * 6),
            series(c.APP_DEPENDENCY_UP, labels, [1, 1, 0, 0, 0, 1]),
            series(c.APP_STARTUP_CHECK, {**redis, c.LABEL_POLICY: "degrade"}, [0] * 6),
            series(c.APP_DEPENDENCY_UP, {**redis, c.LABEL_CRITICAL: "true"}, [0] * 6),
        ),
        alert_rule_test=(
            AlertTest("2m", name),
            AlertTest("3m", name, (_expect(config, name, labels),)),
            AlertTest("5m", name),
        ),
    )
