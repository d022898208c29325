"""promtool tests of a definition that fires on violations only, fed a check that cannot run.

On its first target: runs time out from the third on, `failing` turns 1 and
`business_probe_violation` stays 0. The definition's alert stays silent throughout;
BusinessCannotVerify fires once its hold has passed (silent one step before), naming the
timeout. Then a run finds the violation: the definition's alert fires, naming it, and
BusinessCannotVerify is gone.
"""

from __future__ import annotations

from exporter import conventions as c
from exporter.config import Config, format_duration
from exporter.generate.alertmanager.inhibition import hold_seconds
from exporter.generate.model import AlertTest, ExpectedAlert, Series, TestCase
from exporter.generate.rules.definition import placeholder_values, targets_of
from exporter.generate.rules.unverified import cannot_verify_annotations, cannot_verify_labels
from exporter.generate.ruletests.alerts import (
    FIRST_FAILURE,
    REASON,
    at,
    covered_at_rest,
    expected_alert,
    revenue_series,
    revenue_text,
    step_ms,
)
from exporter.generate.ruletests.series import scraped_labels, series

CANNOT_RUN = c.REASON_TIMEOUT


def unverified_case(config: Config, name: str) -> TestCase:
    alert, targets = config.alerts[name], targets_of(config, name)
    target = targets[0]
    hold = hold_seconds(config, targets)
    step = step_ms(alert, hold)
    fire = FIRST_FAILURE + target.failure_threshold - 1
    notice = fire + round(hold * 1000) // step  # BusinessCannotVerify fires
    found = notice + 2  # a run finds the violation
    length = found + 2
    labels = scraped_labels(target)
    inputs = [
        series(c.PROBE_FAILING, labels, [float(i >= fire) for i in range(length)]),
        series(c.PROBE_VIOLATION, labels, [float(i >= found) for i in range(length)]),
        series(
            c.PROBE_CONSECUTIVE_FAILURES,
            labels,
            [float(max(0, i - FIRST_FAILURE + 1)) for i in range(length)],
        ),
        *_runs(labels, length, found),
        *revenue_series([target], length),
        *covered_at_rest(config, name, [target], length),
    ]
    fill = placeholder_values(target.static_labels(), CANNOT_RUN, revenue_text([target]), alert)
    cannot = ExpectedAlert(
        labels={**labels, **cannot_verify_labels(name, alert)},
        annotations=cannot_verify_annotations(name, alert, fill),
    )
    alertname = c.alert_name(name)
    checks = [AlertTest(at(notice, step), c.ALERT_CANNOT_VERIFY, (cannot,))]
    if notice > fire:
        checks.insert(0, AlertTest(at(notice - 1, step), c.ALERT_CANNOT_VERIFY))
    checks += [
        AlertTest(at(notice, step), alertname),
        AlertTest(at(found, step), alertname, (expected_alert(name, alert, target, 0),)),
        AlertTest(at(found, step), c.ALERT_CANNOT_VERIFY),
    ]
    return TestCase(
        name=f"{name}: a check that cannot run is not a violation, one that finds it is",
        interval=format_duration(step / 1000),
        input_series=tuple(inputs),
        alert_rule_test=tuple(checks),
    )


def _runs(labels: dict[str, str], length: int, found: int) -> list[Series]:
    """Successes, then timeouts, then from `found` on the violation's reason."""
    runs = c.PROBE_RUNS + "_total"

    def counted(start: int, end: int) -> list[float | None]:
        return [None if i < start else float(min(i, end - 1) - start + 1) for i in range(length)]

    return [
        series(runs, {**labels, c.LABEL_RESULT: c.RESULT_SUCCESS}, [float(FIRST_FAILURE)] * length),
        series(runs, {**labels, c.LABEL_RESULT: CANNOT_RUN}, counted(FIRST_FAILURE, found)),
        series(runs, {**labels, c.LABEL_RESULT: REASON}, counted(found, length)),
    ]
