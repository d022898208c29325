"""promtool tests that an alert definition's alert stays quiet through a maintenance window.

On the first target under a window that has an alert definition: failing from 5 minutes into
the window, fixed a minute after it, the alert never fires (Alertmanager would have nothing to
send once the window stops muting it); still failing after the window, it fires once the
quiet time after it (the target's success_threshold runs and a minute) has passed, at level 0
only: its escalations start counting there, not at the window's start.
"""

from __future__ import annotations

from exporter import conventions as c
from exporter.config import Config, Target
from exporter.generate.model import AlertTest, ExpectedAlert, Series, TestCase
from exporter.generate.rules import messages as m
from exporter.generate.rules.definition import (
    definition_annotations,
    placeholder_values,
    rule_labels,
    targets_of,
)
from exporter.generate.rules.maintenance import quiet_minutes
from exporter.generate.ruletests.series import exporter_labels, scraped_labels, series

REASON = c.REASON_UNEXPECTED_STATUS


def alert_cases(
    config: Config, target: Target, window: str, start: int, end: int
) -> list[TestCase]:
    """The two cases, for a window active from minute `start` to `end` (not included)."""
    if target.alert is None:
        return []
    quiet = quiet_minutes(config, targets_of(config, target.alert))
    name = c.alert_name(target.alert)
    fixed = _case(config, target, window, (start, end), end + 2, end + quiet + 5)
    lasting = _case(config, target, window, (start, end), None, end + quiet + 5)
    return [
        TestCase(
            f"{name} stays quiet through maintenance window {window} when fixed at its end",
            fixed,
            alert_rule_test=tuple(
                AlertTest(f"{t}m", name) for t in (start + 10, end + 1, end + quiet + 1)
            ),
        ),
        TestCase(
            f"{name} fires {quiet}m after maintenance window {window} when still failing",
            lasting,
            alert_rule_test=(
                AlertTest(f"{start + 10}m", name),
                AlertTest(f"{end + quiet - 1}m", name),
                AlertTest(f"{end + quiet}m", name, (_expected(config, target),)),
            ),
        ),
    ]


def _case(
    config: Config,
    target: Target,
    window: str,
    active: tuple[int, int],
    recover: int | None,
    length: int,
) -> tuple[Series, ...]:
    """Failing from 5 minutes into the window to `recover` (never: None), one run a minute."""
    start, end = active
    labels = scraped_labels(target)
    failing = [
        1.0 if start + 5 <= t and (recover is None or t < recover) else 0.0
        for t in range(length + 1)
    ]
    failed, good = [0.0], [0.0]
    for t in range(1, length + 1):
        failed.append(failed[-1] + failing[t])
        good.append(good[-1] + 1 - failing[t])
    flags = [1.0 if start <= t < end else 0.0 for t in range(length + 1)]
    where = {c.LABEL_WINDOW: window, c.LABEL_TENANT: target.tenant, c.LABEL_SERVICE: target.service}
    out = [
        series(c.PROBE_FAILING, labels, failing),
        series(c.PROBE_RUNS + "_total", {**labels, c.LABEL_RESULT: c.RESULT_SUCCESS}, good),
        series(c.PROBE_RUNS + "_total", {**labels, c.LABEL_RESULT: REASON}, failed),
        series(
            c.MAINTENANCE_ACTIVE,
            {k: v for k, v in {**where, **exporter_labels()}.items() if v},
            flags,
        ),
    ]
    money = target.revenue_at_risk
    if money is not None:
        revenue = {**labels, c.LABEL_CURRENCY: money.currency}
        out.append(series(c.PROBE_REVENUE_AT_RISK, revenue, [money.amount] * (length + 1)))
    return tuple(out)


def _expected(config: Config, target: Target) -> ExpectedAlert:
    assert target.alert is not None
    alert = config.alerts[target.alert]
    money = target.revenue_at_risk
    revenue = m.money_text({money.currency: money.amount} if money else {})
    fill = placeholder_values(target.static_labels(), REASON, revenue, alert)
    return ExpectedAlert(
        labels={**scraped_labels(target), **rule_labels(alert, 0)},
        annotations=definition_annotations(target.alert, alert, 0, fill),
    )
