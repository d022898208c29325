"""What the on-call page shows, as data: the HTML page and its JSON twin render this.

Failing first, grouped by tenant and service: groups with a target failing outside
maintenance, then those failing inside one, then groups in maintenance, then the rest; in
a group, failing targets first, the most severe first.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from exporter import __version__
from exporter.config import Config
from exporter.config.maintenance import active_windows
from exporter.conventions import OUTCOME_UNVERIFIED, OUTCOME_VIOLATION, SEVERITIES
from exporter.generate.rules.definition import placeholder_values
from exporter.generate.rules.messages import UNKNOWN_REASON, money_text, substitute
from exporter.pages import history
from exporter.pages.alertmanager import Alert, AlertState
from exporter.pages.revenue import CurrencyRisk, at_risk
from exporter.plan import TargetAbout
from exporter.runtime import Runtime
from exporter.state import TargetState

FAILING, OK, PENDING = "failing", "ok", "pending"
_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True, slots=True)
class LastFailure:
    at: float
    reason: str
    outcome: str  # violation or unverified
    detail: str  # masked


@dataclass(frozen=True, slots=True)
class TargetView:
    about: TargetAbout
    state: str  # failing, ok, pending
    outcome: str  # while failing: violation or unverified (could not check); else ""
    consecutive_failures: int
    maintenance: tuple[str, ...]  # the windows holding now
    last_run: float | None
    last_success: float | None
    last_failure: LastFailure | None
    runbook_url: str
    debug_url: str
    history: tuple[history.Segment, ...]
    alerts: tuple[Alert, ...]

    @property
    def escalation_level(self) -> int:
        return max((a.escalation_level for a in self.alerts if a.state == "active"), default=0)


@dataclass(frozen=True, slots=True)
class GroupView:
    tenant: str
    tenant_name: str  # the display name, or the tenant
    service: str
    targets: tuple[TargetView, ...]
    maintenance: tuple[str, ...]  # windows holding for some target of the group
    alerts: tuple[Alert, ...]  # the group's own: a service outage, no probe label

    @property
    def failing(self) -> tuple[TargetView, ...]:
        return tuple(t for t in self.targets if t.state == FAILING)

    @property
    def state(self) -> str:
        if self.failing:
            return FAILING
        return PENDING if any(t.state == PENDING for t in self.targets) else OK

    @property
    def anchor(self) -> str:
        return f"group-{self.tenant or '_'}-{self.service}"


@dataclass(frozen=True, slots=True)
class OnCallView:
    generated_at: float
    version: str
    reload_ok: bool
    shard: str
    groups: tuple[GroupView, ...]
    revenue: tuple[CurrencyRisk, ...]
    alertmanager: AlertState
    other_alerts: tuple[Alert, ...]  # neither a target's nor a group's

    @property
    def targets(self) -> int:
        return sum(len(g.targets) for g in self.groups)

    @property
    def failing(self) -> int:
        return sum(len(g.failing) for g in self.groups)

    @property
    def in_maintenance(self) -> int:
        return sum(1 for g in self.groups for t in g.targets if t.maintenance)


def oncall_view(
    runtime: Runtime, alerts: AlertState, now: float, states: list[TargetState] | None = None
) -> OnCallView:
    """The page's data from the state table (or `states`, a list of it), the config's windows
    and Alertmanager's alerts."""
    config = runtime.config
    moment = datetime.fromtimestamp(now, UTC)
    by_probe: dict[str, list[Alert]] = defaultdict(list)
    by_group: dict[tuple[str, str], list[Alert]] = defaultdict(list)
    others: list[Alert] = []
    if states is None:
        states = list(runtime.scheduler.states.values())
    names = {s.about.name for s in states}
    scopes = {(s.about.tenant, s.about.service) for s in states}
    for alert in alerts.alerts:
        probe, labels = alert.labels.get("probe", ""), alert.labels
        scope = (labels.get("tenant", ""), labels.get("service", ""))
        if probe in names:
            by_probe[probe].append(alert)
        elif not probe and scope in scopes:
            by_group[scope].append(alert)
        else:
            others.append(alert)
    members: dict[tuple[str, str], list[TargetState]] = defaultdict(list)
    for state in states:
        members[(state.about.tenant, state.about.service)].append(state)
    active: dict[tuple[str, str], tuple[str, ...]] = {}
    grouped: dict[tuple[str, str], list[TargetView]] = {}
    for scope, scoped in members.items():
        active[scope] = tuple(active_windows(config, *scope, moment))
        longest = max(s.plan.interval for s in scoped)
        spans = history.maintenance_spans(config, *scope, longest, now)
        grouped[scope] = [
            target_view(s, active[scope], spans, tuple(by_probe[s.about.name]), config)
            for s in scoped
        ]
    groups = [
        GroupView(
            tenant,
            _tenant_name(config, tenant),
            service,
            tuple(sorted(views, key=_target_order)),
            active[(tenant, service)],
            tuple(by_group[(tenant, service)]),
        )
        for (tenant, service), views in grouped.items()
    ]
    failing = [s.about for s in states if s.failing]
    return OnCallView(
        generated_at=now,
        version=__version__,
        reload_ok=runtime.last_reload_successful,
        shard=str(runtime.shard) if runtime.shard else "",
        groups=tuple(sorted(groups, key=_group_order)),
        revenue=tuple(at_risk(failing)),
        alertmanager=alerts,
        other_alerts=tuple(others),
    )


def target_view(
    state: TargetState,
    maintenance: tuple[str, ...],
    spans: history.Spans,
    alerts: tuple[Alert, ...],
    config: Config,
) -> TargetView:
    """One row: `maintenance` holds now, `spans` held over the time its runs cover."""
    about = state.about
    if state.last_result is None:
        status, outcome = PENDING, ""
    elif state.failing:
        status = FAILING
        outcome = OUTCOME_VIOLATION if state.violation else OUTCOME_UNVERIFIED
    else:
        status, outcome = OK, ""
    return TargetView(
        about=about,
        state=status,
        outcome=outcome,
        consecutive_failures=state.consecutive_failures,
        maintenance=maintenance,
        last_run=state.last_run,
        last_success=state.last_success,
        last_failure=_last_failure(state),
        runbook_url=runbook_url(config, about, state),
        debug_url=f"/probe?target={quote(about.name)}&debug=true",
        history=tuple(history.segments(state.history, spans)),
        alerts=alerts,
    )


def _last_failure(state: TargetState) -> LastFailure | None:
    result = state.last_failed_result
    if result is None or state.last_failure is None:
        return None
    outcome = history.Segment(result.reason, 1, 0, 0).outcome
    # Probes mask their details already; this is the one mask again, for what a page shows.
    detail = state.plan.probe.mask(result.detail)
    return LastFailure(state.last_failure, result.reason, outcome, detail)


def runbook_url(config: Config, about: TargetAbout, state: TargetState) -> str:
    """The runbook of the target's alert definition, its placeholders filled as the alert's
    notification fills them; else the target's own runbook_url."""
    alert = config.alerts.get(about.alert)
    if alert is None or not alert.runbook_url:
        return about.runbook_url
    failed = state.last_failed_result
    revenue = about.revenue_at_risk
    fill = placeholder_values(
        labels=about.static_labels(),
        reason=failed.reason if failed is not None else UNKNOWN_REASON,
        revenue=money_text({revenue.currency: revenue.amount} if revenue else {}),
        alert=alert,
    )
    return substitute(alert.runbook_url, fill)


def _tenant_name(config: Config, tenant: str) -> str:
    spec = config.tenants.get(tenant)
    return spec.display_name if spec is not None and spec.display_name else tenant


def _target_order(view: TargetView) -> tuple[int, int, str]:
    rank = {FAILING: 0, PENDING: 1, OK: 2}[view.state]
    return rank, _SEVERITY_RANK.get(view.about.severity, 99), view.about.name


def _group_order(group: GroupView) -> tuple[int, int, float, str, str]:
    failing = group.failing
    if failing:
        rank = 1 if all(t.maintenance for t in failing) else 0
    else:
        rank = 2 if group.maintenance else 3 if group.state == PENDING else 4
    severity = min((_SEVERITY_RANK.get(t.about.severity, 99) for t in failing), default=99)
    revenue = max(
        (t.about.revenue_at_risk.amount for t in failing if t.about.revenue_at_risk),
        default=0.0,
    )
    return rank, severity, -revenue, group.tenant, group.service
