"""promtool tests of the service outage and self-monitoring rules (and outages quiet while
their cause fails: ruletests/symptoms.py)."""

from __future__ import annotations

from exporter import conventions as c
from exporter.config import Config, Target
from exporter.generate.model import AlertTest, ExpectedAlert, RuleTestFile, Series, TestCase
from exporter.generate.rules import messages as m
from exporter.generate.rules.alerts import OUTAGE_FILE, SELF_MONITORING_FILE
from exporter.generate.rules.outage import Outage, outage_annotations, outage_rule, outages
from exporter.generate.rules.selfmon import SELF_ALERTS, SelfAlert, self_annotations, self_labels
from exporter.generate.ruletests.series import (
    TEST_INSTANCE,
    exporter_labels,
    scraped_labels,
    series,
)

OTHER_JOB = "some_other_job"


def outage_test_file(config: Config) -> RuleTestFile | None:
    from exporter.generate.ruletests.symptoms import outage_cases  # it builds on alert_tests

    cases = (*(outage_case(outage) for outage in outages(config)), *outage_cases(config))
    if not cases:
        return None
    return RuleTestFile(OUTAGE_FILE, (f"../{OUTAGE_FILE}.rules.yml",), cases)


def outage_case(outage: Outage) -> TestCase:
    """Silent while one probe reports (failing) or not all fail; fires once all of them fail."""
    first, *rest = outage.targets
    inputs = [series(c.PROBE_FAILING, scraped_labels(first), [1, 1, 1, 1, 0, 0])]
    inputs += [series(c.PROBE_FAILING, scraped_labels(t), [None, 0, 1, 1, 1, 1]) for t in rest]
    inputs += _revenue_series(outage.targets)
    labels = {c.LABEL_SERVICE: outage.service, c.LABEL_TENANT: outage.tenant}
    fill = {
        "service": outage.service,
        "tenant": outage.tenant,
        "count": str(len(outage.targets)),
        "revenue_at_risk": m.money_text(_max_revenue(outage.targets)),
    }
    expected = ExpectedAlert(
        labels={k: v for k, v in {**labels, **outage_rule(outage).labels}.items() if v},
        annotations=outage_annotations(fill),
    )
    alertname = c.ALERT_SERVICE_OUTAGE
    return TestCase(
        name=f"service {outage.service}, tenant {outage.tenant}: an outage once all probes fail",
        input_series=tuple(inputs),
        alert_rule_test=(
            AlertTest("0m", alertname),
            AlertTest("1m", alertname),
            AlertTest("2m", alertname, (expected,)),
            AlertTest("4m", alertname),
        ),
    )


def _revenue_series(targets: tuple[Target, ...]) -> list[Series]:
    return [
        series(
            c.PROBE_REVENUE_AT_RISK,
            {**scraped_labels(t), c.LABEL_CURRENCY: t.revenue_at_risk.currency},
            [t.revenue_at_risk.amount] * 6,
        )
        for t in targets
        if t.revenue_at_risk is not None
    ]


def _max_revenue(targets: tuple[Target, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    for t in targets:
        if t.revenue_at_risk is not None:
            money = t.revenue_at_risk
            out[money.currency] = max(out.get(money.currency, 0.0), money.amount)
    return out


def self_monitoring_test_file(config: Config) -> RuleTestFile:
    target = config.targets[0] if config.targets else None
    cases = [_down(), _absent(), _reload_failed(), _watchdog()]
    if target is not None:
        cases += [_stale(target), _never_ran(target), _faster_than_scrapes(target)]
    path = f"../{SELF_MONITORING_FILE}.rules.yml"
    return RuleTestFile(SELF_MONITORING_FILE, (path,), tuple(cases))


def _self(name: str) -> SelfAlert:
    return next(a for a in SELF_ALERTS if a.alert == name)


def _expect(alert: SelfAlert, labels: dict[str, str], probe: str = "") -> ExpectedAlert:
    fill = {"instance": labels.get("instance", ""), "probe": probe}
    return ExpectedAlert({**labels, **self_labels(alert)}, self_annotations(alert, fill))


def _down() -> TestCase:
    alert = _self(c.ALERT_EXPORTER_DOWN)
    other = {"job": OTHER_JOB, "instance": TEST_INSTANCE}
    return TestCase(
        name="the exporter is down after a minute of failed scrapes, not before",
        input_series=(
            series("up", exporter_labels(), [1, 1, 0, 0, 0]),
            series("up", other, [0] * 5),
        ),
        alert_rule_test=(
            AlertTest("2m", alert.alert),
            AlertTest("3m", alert.alert, (_expect(alert, exporter_labels()),)),
        ),
    )


def _absent() -> TestCase:
    alert = _self(c.ALERT_EXPORTER_ABSENT)
    other = {"job": OTHER_JOB, "instance": TEST_INSTANCE}
    return TestCase(
        name="the exporter is absent when Prometheus has no target in its job",
        input_series=(series("up", other, [1] * 4),),
        alert_rule_test=(
            AlertTest("1m", alert.alert),
            AlertTest("2m", alert.alert, (_expect(alert, {"job": c.EXPORTER_JOB}),)),
        ),
    )


def _reload_failed() -> TestCase:
    alert = _self(c.ALERT_CONFIG_RELOAD_FAILED)
    return TestCase(
        name="a failed config reload alerts",
        input_series=(series(c.CONFIG_RELOAD_SUCCESSFUL, exporter_labels(), [1, 0, 0]),),
        alert_rule_test=(
            AlertTest("0m", alert.alert),
            AlertTest("1m", alert.alert, (_expect(alert, exporter_labels()),)),
        ),
    )


def _watchdog() -> TestCase:
    alert = _self(c.ALERT_WATCHDOG)
    return TestCase(
        name="the Watchdog always fires",
        input_series=(),
        alert_rule_test=(AlertTest("0m", alert.alert, (_expect(alert, {}),)),),
    )


def _stale(target: Target) -> TestCase:
    """Runs every minute until 3m, then none: stale once more than 3 intervals passed (7m)."""
    alert, labels = _self(c.ALERT_PROBE_STALE), scraped_labels(target)
    last_run = [60.0 * min(i, 3) for i in range(12)]
    return TestCase(
        name="a probe that stopped running is stale after three intervals",
        input_series=(
            series(c.PROBE_LAST_RUN, labels, last_run),
            series(c.PROBE_INTERVAL, labels, [60] * 12),
            series(c.CONFIG_RELOAD_TIMESTAMP, exporter_labels(), [0] * 12),
        ),
        alert_rule_test=(
            AlertTest("6m", alert.alert),
            AlertTest("7m", alert.alert, (_expect(alert, labels, target.name),)),
        ),
    )


def _faster_than_scrapes(target: Target) -> TestCase:
    """Probes every 5s, scraped every 40s, each scrape 2s after a run. Evaluated at 3m, 20s
    after the last scrape, the run looks 22s old, over three intervals; at scrape time it was
    2s old. Only the age at scrape time is honest: the rule must stay silent."""
    alert, labels = _self(c.ALERT_PROBE_STALE), scraped_labels(target)
    return TestCase(
        name="a probe faster than the scrapes is not stale between two scrapes",
        interval="40s",
        input_series=(
            series(c.PROBE_LAST_RUN, labels, [max(0, 40 * i - 2) for i in range(8)]),
            series(c.PROBE_INTERVAL, labels, [5] * 8),
            series(c.CONFIG_RELOAD_TIMESTAMP, exporter_labels(), [0] * 8),
        ),
        alert_rule_test=(AlertTest("3m", alert.alert),),
    )


def _never_ran(target: Target) -> TestCase:
    alert, labels = _self(c.ALERT_PROBE_STALE), scraped_labels(target)
    return TestCase(
        name="a probe that never ran is stale three intervals after the config loaded",
        input_series=(
            series(c.PROBE_INTERVAL, labels, [60] * 6),
            series(c.CONFIG_RELOAD_TIMESTAMP, exporter_labels(), [0] * 6),
        ),
        alert_rule_test=(
            AlertTest("3m", alert.alert),
            AlertTest("4m", alert.alert, (_expect(alert, labels, target.name),)),
        ),
    )
