"""promtool tests that a symptom is quiet while its cause fails, and until it can be seen fixed.

One run a minute. The symptom fails from minute 2; its cause (the first dependency whose alert
mutes it: rules/symptoms.py) fails from minute 3 to 5. The symptom's alert fires at 2 when it has no
`for` (its cause is not known yet: what users feel is paged now), is quiet from 3 through the
quiet time after the cause's last failed minute, then fires again while the symptom still fails
(after its `for`, if any); fixed at minute 7, it never fires again, though at minute 6 its cause
is fixed and it still fails. Cases, where the config has them: per alert definition, on its
first target with each set of causes (a violation; and a check that cannot run, for
BusinessCannotVerify); per outage, and per whole-of definition in its first tenant, standing
for targets that all have a cause, on all of them. Then, per per-target definition, its level 0
on its first target under each alert standing for it (standins.py): an outage or a whole-of
alert, firing from minute 3 to 5 as its ALERTS series. Escalations are not under test here:
the streak of failed runs stays 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from exporter import conventions as c
from exporter.config import Config, Target, format_duration
from exporter.generate.alertmanager.inhibition import hold_seconds
from exporter.generate.model import AlertTest, ExpectedAlert, Series, TestCase
from exporter.generate.rules.definition import members, placeholder_values, rule_labels, targets_of
from exporter.generate.rules.outage import Outage, outage_annotations, outage_rule, outages
from exporter.generate.rules.standins import StandIn, stand_ins
from exporter.generate.rules.symptoms import causes, group_causes, quiet_seconds
from exporter.generate.rules.unverified import cannot_verify_annotations, cannot_verify_labels
from exporter.generate.rules.whole import whole_annotations, whole_values
from exporter.generate.ruletests.alerts import (
    FIRST_FAILURE,
    REASON,
    covered_at_rest,
    expected_alert,
    revenue_series,
    revenue_text,
)
from exporter.generate.ruletests.series import scraped_labels, series

CAUSE = (3, 6)  # the cause fails from minute 3; its last failed minute is 5
FIXED = CAUSE[1] + 1  # the symptom's first good minute, in the case where it is fixed
CANNOT_RUN = c.REASON_TIMEOUT
Inputs = Callable[[int, int | None], list[Series]]  # (length, fixed) -> input series


@dataclass(frozen=True, slots=True)
class _Symptom:
    what: str  # "ZebraAdminFailure of zebra_admin_login_flow"
    alertname: str
    expected: ExpectedAlert  # the alert when it fires
    cause: str  # what keeps it quiet: a dependency, or an alert standing for it
    quiet: int  # seconds, after the cause's last failed minute
    hold: float  # the rule's `for`
    inputs: Inputs


def definition_cases(config: Config, name: str) -> list[TestCase]:
    """The cases of a per-target definition: on its first target with each set of causes."""
    first: dict[tuple[str, ...], Target] = {}
    for target in targets_of(config, name):
        if found := causes(config, target):
            first.setdefault(tuple(t.name for t in found), target)
    return [case for target in first.values() for case in _target_cases(config, name, target)]


def _target_cases(config: Config, name: str, target: Target) -> list[TestCase]:
    """The cases of one target, its first cause failing: a violation, and for a definition
    that fires on violations only, a check that cannot run (BusinessCannotVerify)."""
    alert = config.alerts[name]
    cause = causes(config, target)[0]
    found = _Symptom(
        f"{c.alert_name(name)} of {target.name}",
        c.alert_name(name),
        expected_alert(name, alert, target, 0),
        cause.name,
        quiet_seconds([target]),
        0.0,
        _inputs(config, [target], _failing(config, cause), REASON, name),
    )
    cases = _cases(found)
    if alert.fires_on == "violation":
        fill = placeholder_values(target.static_labels(), CANNOT_RUN, revenue_text([target]), alert)
        cannot = ExpectedAlert(
            labels={**scraped_labels(target), **cannot_verify_labels(name, alert)},
            annotations=cannot_verify_annotations(name, alert, fill),
        )
        cases += _cases(
            _Symptom(
                f"{c.ALERT_CANNOT_VERIFY} of {target.name}",
                c.ALERT_CANNOT_VERIFY,
                cannot,
                cause.name,
                quiet_seconds([target]),
                hold_seconds(config, [target]),
                _inputs(config, [target], _failing(config, cause), CANNOT_RUN, name),
            )
        )
    return cases


def stand_in_cases(config: Config, name: str) -> list[TestCase]:
    """The cases of a per-target definition's level 0 under each alert standing for its
    targets (standins.py), on its first target: the alert fires as its ALERTS series."""
    alert, target = config.alerts[name], targets_of(config, name)[0]
    cases = []
    for stand_in in stand_ins(config, name):
        inputs = _inputs(config, [target], _firing(stand_in, target), REASON, name)
        symptom = _Symptom(
            f"{c.alert_name(name)} of {target.name}",
            c.alert_name(name),
            expected_alert(name, alert, target, 0),
            stand_in.alertname,
            stand_in.seconds,
            0.0,
            inputs,
        )
        cases += _cases(symptom)
    return cases


def whole_cases(config: Config, name: str) -> list[TestCase]:
    """The cases of a whole-of definition, in its first tenant whose targets all have a cause."""
    alert = config.alerts[name]
    for tenant in dict.fromkeys(t.tenant for t in members(config, name)):
        group = [t for t in members(config, name) if t.tenant == tenant]
        found = group_causes(config, group, alert.severity)
        if not found:
            continue
        revenue = revenue_text(group)
        fill = whole_values(
            alert, tenant=tenant, failing=str(len(group)), reason=REASON, revenue=revenue
        )
        expected = ExpectedAlert(
            labels={c.LABEL_TENANT: tenant, **rule_labels(alert, 0)},
            annotations=whole_annotations(name, alert, 0, fill),
        )
        alertname = c.alert_name(name)
        inputs = _inputs(config, group, _failing(config, found[0]), REASON)
        what = f"{alertname} of tenant {tenant}"
        cause, quiet = found[0].name, quiet_seconds(group)
        return _cases(_Symptom(what, alertname, expected, cause, quiet, 0.0, inputs))
    return []


def outage_cases(config: Config) -> Iterator[TestCase]:
    """The cases of each outage whose targets all have a cause."""
    for outage in outages(config):
        found = group_causes(config, outage.targets, outage.severity)
        if found:
            yield from _cases(_outage(config, outage, found[0]))


def _outage(config: Config, outage: Outage, cause: Target) -> _Symptom:
    fill = {
        "service": outage.service,
        "tenant": outage.tenant,
        "count": str(len(outage.targets)),
        "revenue_at_risk": revenue_text(outage.targets),
    }
    labels = {c.LABEL_SERVICE: outage.service, c.LABEL_TENANT: outage.tenant}
    expected = ExpectedAlert(
        labels={k: v for k, v in {**labels, **outage_rule(outage).labels}.items() if v},
        annotations=outage_annotations(fill),
    )
    return _Symptom(
        f"{c.ALERT_SERVICE_OUTAGE} of service {outage.service}, tenant {outage.tenant}",
        c.ALERT_SERVICE_OUTAGE,
        expected,
        cause.name,
        quiet_seconds(outage.targets),
        0.0,
        _inputs(config, outage.targets, _failing(config, cause), REASON),
    )


def _cases(symptom: _Symptom) -> list[TestCase]:
    """The lasting case and the fixed one. The checks keep off the quiet time's last minute,
    where the cause's last failed sample is on the edge of the range."""
    seconds = symptom.quiet
    back = CAUSE[1] + _minutes(seconds)  # the first minute surely out of the quiet time
    fires = back + _minutes(symptom.hold)
    name, length = symptom.alertname, fires + 2
    lasting = [
        AlertTest(f"{CAUSE[0] + 1}m", name),
        AlertTest(f"{back - 2}m", name),
        AlertTest(f"{fires}m", name, (symptom.expected,)),
    ]
    if not symptom.hold:  # paged before the cause is known
        lasting.insert(0, AlertTest(f"{FIRST_FAILURE}m", name, (symptom.expected,)))
    cause = symptom.cause
    return [
        TestCase(
            f"{symptom.what}: quiet while {cause} fails and {format_duration(seconds)} after, "
            "then fires",
            tuple(symptom.inputs(length, None)),
            alert_rule_test=tuple(lasting),
        ),
        TestCase(
            f"{symptom.what}: fixed after {cause}, never fires again",
            tuple(symptom.inputs(length, FIXED)),
            alert_rule_test=tuple(
                AlertTest(f"{t}m", name) for t in (CAUSE[0] + 1, CAUSE[1], FIXED + 1, fires)
            ),
        ),
    ]


def _inputs(
    config: Config,
    targets: Sequence[Target],
    cause: Callable[[int], list[Series]],
    reason: str,
    definition: str | None = None,
) -> Inputs:
    """`targets` failing from FIRST_FAILURE (until `fixed`) for `reason`, and their cause; for
    a `definition`'s own, the other targets its whole-of alerts count, at rest."""

    def inputs(length: int, fixed: int | None) -> list[Series]:
        end = fixed or length
        down = [float(FIRST_FAILURE <= i < end) for i in range(length)]
        failed = [
            None if i < FIRST_FAILURE else float(min(i, end - 1) - FIRST_FAILURE + 1)
            for i in range(length)
        ]
        runs = c.PROBE_RUNS + "_total"
        out: list[Series] = []
        for target in targets:
            labels = scraped_labels(target)
            out += [
                series(c.PROBE_FAILING, labels, down),
                series(c.PROBE_CONSECUTIVE_FAILURES, labels, [0.0] * length),
                series(runs, {**labels, c.LABEL_RESULT: reason}, failed),
            ]
            if _fires_on_violation(config, target):
                found = down if c.is_violation(reason) else [0.0] * length
                out.append(series(c.PROBE_VIOLATION, labels, found))
        if definition is not None:
            out += covered_at_rest(config, definition, targets, length)
        return [*out, *revenue_series(list(targets), length), *cause(length)]

    return inputs


def _failing(config: Config, cause: Target) -> Callable[[int], list[Series]]:
    """The cause failing from CAUSE[0] until CAUSE[1], as its alert sees it."""

    def inputs(length: int) -> list[Series]:
        down = _down(length)
        labels = scraped_labels(cause)
        out = [series(c.PROBE_FAILING, labels, down)]
        if _fires_on_violation(config, cause):
            out.append(series(c.PROBE_VIOLATION, labels, down))
        return out

    return inputs


def _firing(stand_in: StandIn, target: Target) -> Callable[[int], list[Series]]:
    """The alert standing for `target` firing from CAUSE[0] until CAUSE[1], as its ALERTS
    series (its other labels do not matter to the rule)."""
    labels = {"alertname": stand_in.alertname, "alertstate": "firing"}
    labels |= {name: target.static_labels()[name] for name in stand_in.on}
    return lambda length: [series("ALERTS", labels, _down(length))]


def _down(length: int) -> list[float]:
    return [float(CAUSE[0] <= i < CAUSE[1]) for i in range(length)]


def _fires_on_violation(config: Config, target: Target) -> bool:
    alert = config.alerts.get(target.alert or "")
    return alert is not None and alert.fires_on == "violation"


def _minutes(seconds: float) -> int:
    return math.ceil(seconds / 60)
