"""promtool tests of the maintenance windows in the SLO rules: a failure inside a window costs
no error budget and fires no SLO alert, the same failure outside one does.

One target under the config's first window fails every run for half an hour while the exporter
reports the window active; a copy of it (probe and tenant suffixed `_unplanned`, so that no
window covers it) fails the same runs with no window. After the window, the target's SLIs at
every level, its tenant's error budgets, are untouched, and no burn-rate or budget alert fired
for it; the copy's are spent, and its page fires where its tier's threshold allows.
(Alertmanager's mute, the other half of "pages nobody", is tested with the real Alertmanager.)
"""

from __future__ import annotations

from exporter import conventions as c
from exporter.config import Config, Target
from exporter.generate.model import (
    AlertTest,
    ExpectedAlert,
    PromqlTest,
    RuleTestFile,
    Series,
    TestCase,
)
from exporter.generate.rules.alerts import ALERTS_FILE
from exporter.generate.rules.burn import BURNS, alert_annotations, alert_labels, alert_name
from exporter.generate.rules.objectives import AVAILABILITY, SLOS
from exporter.generate.rules.predict import exhaustion_name
from exporter.generate.rules.slo import GROUP_ORDER, LEVELS, RULE_FILE, TENANT, Level
from exporter.generate.ruletests.alert_maintenance import alert_cases
from exporter.generate.ruletests.series import exporter_labels, scraped_labels, series
from exporter.generate.ruletests.slo_series import (
    in_level,
    level_labels,
    probe_series,
    sample,
    selector,
    tier_le,
)

FILE = "maintenance"
SUFFIX = "_unplanned"
RUNS_PER_MINUTE = 60.0
START, END, LENGTH = 60, 90, 120  # minutes: the window, and the whole test
CHECK = END + 5  # the first 5m rate after the window that reads only later runs
DURING = END - 10  # the copy's page has had 20 bad minutes of its 1h window by then
# A page over 1h needs a 14.4x burn: at DURING the copy's 1h bad share is 18 / 61 of its rates.
PAGEABLE = 18 / 61


def maintenance_test_file(config: Config) -> RuleTestFile | None:
    """rules/tests/maintenance.test.yml, for a config with windows."""
    covered = [t for t in config.targets if _window_of(config, t)]
    if not covered:
        return None
    tiered = [t for t in covered if t.tenant and t.tier in config.tiers]
    target = (tiered or covered)[0]
    alerting = next((t for t in covered if t.alert), None)
    alerts = (
        []
        if alerting is None
        else alert_cases(config, alerting, _window_of(config, alerting), START, END)
    )
    files = (f"../{RULE_FILE}.rules.yml",) + ((f"../{ALERTS_FILE}.rules.yml",) if alerts else ())
    return RuleTestFile(FILE, files, (*_case_pair(config, target), *alerts), "1m", GROUP_ORDER)


def _window_of(config: Config, target: Target) -> str:
    windows = config.maintenance.items()
    return next((n for n, w in windows if w.covers(target.tenant, target.service)), "")


def _case_pair(config: Config, target: Target) -> tuple[TestCase, TestCase]:
    window = _window_of(config, target)
    planned, unplanned = scraped_labels(target), _unplanned(scraped_labels(target))
    active = {
        c.LABEL_WINDOW: window,
        c.LABEL_TENANT: target.tenant,
        c.LABEL_SERVICE: target.service,
        **exporter_labels(),
    }
    flags = [1.0 if START <= minute < END else 0.0 for minute in range(LENGTH + 1)]
    window_series = series(c.MAINTENANCE_ACTIVE, {k: v for k, v in active.items() if v}, flags)
    tiered = target.tier in config.tiers and bool(target.tenant)
    levels = [level for level in LEVELS if in_level(level, planned)]
    kept = [_ratio(level, planned, 1.0) for level in levels]
    spent = [_ratio(level, unplanned, 1.0, "< bool 1") for level in levels]
    if tiered:
        kept.append(_budget(planned, 1.0))
        spent.append(_budget(unplanned, 1.0, "< bool 1"))
    return (
        TestCase(
            f"a failure inside maintenance window {window} costs no error budget and fires "
            "no SLO alert",
            (*_runs(config, planned), window_series),
            alert_rule_test=_silent(config) if tiered else (),
            promql_expr_test=tuple(kept),
        ),
        TestCase(
            f"the same failure without the window ({SUFFIX}) spends the error budget and pages",
            tuple(_runs(config, unplanned)),
            alert_rule_test=_page(config, target) if tiered else (),
            promql_expr_test=tuple(spent),
        ),
    )


def _unplanned(labels: dict[str, str]) -> dict[str, str]:
    out = {**labels, c.LABEL_PROBE: labels[c.LABEL_PROBE] + SUFFIX}
    out[c.LABEL_TENANT] = labels.get(c.LABEL_TENANT, "") + SUFFIX
    return out


def _runs(config: Config, labels: dict[str, str]) -> list[Series]:
    """Every run fails from START to END; all of them finish within the tier's latency."""
    runs = [RUNS_PER_MINUTE] * LENGTH
    failures = [RUNS_PER_MINUTE if START < m <= END else 0.0 for m in range(1, LENGTH + 1)]
    le = tier_le(config, labels)
    return probe_series(labels, runs, failures, None if le is None else (le, [0.0] * LENGTH))


def _ratio(level: Level, labels: dict[str, str], value: float, test: str = "") -> PromqlTest:
    """The level's 1h availability after the window: 1, or (with `< bool 1`) below 1."""
    record = c.AVAILABILITY.format(level=level.name, window="1h")
    return _check(record, level_labels(level, labels), value, test)


def _budget(labels: dict[str, str], value: float, test: str = "") -> PromqlTest:
    record = c.BUDGET_REMAINING.format(slo=AVAILABILITY.name)
    return _check(record, level_labels(TENANT, labels), value, test)


def _check(record: str, labels: dict[str, str], value: float, test: str) -> PromqlTest:
    expr = selector(record, labels)
    if not test:
        return PromqlTest(expr, f"{CHECK}m", (sample(record, labels, value),))
    # A comparison with bool drops the metric name: 1 when it holds.
    return PromqlTest(f"{expr} {test}", f"{CHECK}m", (sample("", labels, value),))


def _silent(config: Config) -> tuple[AlertTest, ...]:
    """No SLO alert, page, ticket or prediction, during the window, at its end and after it."""
    names = [alert_name(slo, page) for slo in SLOS for page in (True, False)]
    names += [exhaustion_name(slo) for slo in SLOS] + [c.ALERT_LATENCY_TREND]
    return tuple(AlertTest(f"{m}m", name) for name in names for m in (DURING, CHECK, LENGTH))


def _page(config: Config, target: Target) -> tuple[AlertTest, ...]:
    """The availability page for the copy's tenant, where its tier's threshold can fire."""
    tier = config.tiers[target.tier]
    page = next(b for b in BURNS if b.page)
    if page.threshold(AVAILABILITY.budget(tier)) >= PAGEABLE:
        return ()
    copy = target.tenant + SUFFIX
    labels = {**alert_labels(AVAILABILITY, True), c.LABEL_TENANT: copy, c.LABEL_TIER: target.tier}
    notes = alert_annotations(AVAILABILITY, target.tier, tier, True, copy)
    name = alert_name(AVAILABILITY, True)
    return (AlertTest(f"{DURING}m", name, (ExpectedAlert(labels, notes),)),)
