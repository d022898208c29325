"""The on-call page at `/`: what is failing now and for whom, what is at risk, then the rest."""

from __future__ import annotations

from html import escape

from exporter.conventions import FAILURE_REASONS, OUTCOME_VIOLATION, PAGE_ONCALL_JSON
from exporter.pages import html
from exporter.pages.alertmanager import Alert, AlertState
from exporter.pages.history import NO_RUN, Segment, failed_runs, runs_held
from exporter.pages.oncall import FAILING, PENDING, GroupView, OnCallView, TargetView
from exporter.pages.revenue import money

OUTCOME_WORDS = {OUTCOME_VIOLATION: "violation", "unverified": "could not check"}
COLUMNS = (
    ("Target", "22%"),
    ("State", "13%"),
    ("Recent runs", "17%"),
    ("Last failure", "26%"),
    ("Alerts", "13%"),
    ("Links", "9%"),
)


def oncall_html(view: OnCallView, refresh: int) -> str:
    now = view.generated_at
    refreshing = f" · refreshes every {refresh}s" if refresh else ""
    shard = f" · shard {escape(view.shard)}" if view.shard else ""
    header = (
        f"<h1>On call: business_exporter {escape(view.version)}</h1>"
        f'<p class="muted">Updated {escape(html.clock(now))}{refreshing}{shard} · '
        f'<a href="{PAGE_ONCALL_JSON}">JSON</a> · <a href="/metrics">metrics</a></p>'
    )
    if not view.reload_ok:
        header += (
            '<p class="bad">The last config reload failed: '
            "the previous config is still running.</p>"
        )
    cards = (
        f'<div class="cards">{_failing_card(view)}{_revenue_card(view)}'
        f"{_alertmanager_card(view.alertmanager, now)}</div>"
    )
    others = ""
    if view.other_alerts:
        items = "".join(f"<li>{_alert(a)}</li>" for a in view.other_alerts)
        others = f'<h2>Other alerts</h2><ul class="other-alerts">{items}</ul>'
    cols = "".join(f'<col style="width:{w}">' for _, w in COLUMNS)
    heads = "".join(f"<th>{name}</th>" for name, _ in COLUMNS)
    known = view.alertmanager.fetched_at is not None
    groups = "".join(_group(g, now, known) for g in view.groups)
    table = (
        f'<h2>Targets</h2><table class="targets"><colgroup>{cols}</colgroup>'
        f"<thead><tr>{heads}</tr></thead>{groups}</table>"
    )
    return html.page("On call: business_exporter", header + cards + others + table, refresh)


def _failing_card(view: OnCallView) -> str:
    failing = [g for g in view.groups if g.failing]
    if not failing:
        lead = f'<p class="big ok">Nothing failing</p><p>{view.targets} targets ok or pending</p>'
        return f'<section class="card" id="failing"><h2>Failing now</h2>{lead}</section>'
    items = "".join(
        f'<li><a href="#{escape(g.anchor)}">{escape(_scope(g))}</a>: '
        f"{len(g.failing)} of {len(g.targets)} failing ({_outcomes(g)})</li>"
        for g in failing
    )
    lead = f'<p class="big bad">{view.failing} of {view.targets} targets</p>'
    head = '<section class="card" id="failing"><h2>Failing now</h2>'
    return f"{head}{lead}<ul>{items}</ul></section>"


def _outcomes(group: GroupView) -> str:
    words = sorted({OUTCOME_WORDS[t.outcome] for t in group.failing})
    return ", ".join(words) + ("; in maintenance" if group.maintenance else "")


def _revenue_card(view: OnCallView) -> str:
    if not view.revenue:
        body = '<p class="big ok">None</p><p>No failing target puts revenue at risk.</p>'
    else:
        body = ""
        for risk in view.revenue:
            tenants = "".join(
                f"<li>{escape(tenant)}: {escape(money(amount, risk.currency))}</li>"
                for tenant, amount in risk.tenants
            )
            body += f'<p class="big bad">{escape(money(risk.amount, risk.currency))}</p>'
            body += f"<ul>{tenants}</ul>" if tenants else ""
    note = '<p class="muted">Each opportunity (a tenant\'s context) counted once.</p>'
    return f'<section class="card" id="revenue"><h2>Revenue at risk now</h2>{body}{note}</section>'


def _alertmanager_card(state: AlertState, now: float) -> str:
    where = escape(state.url)
    if state.status == "not_configured":
        body = (
            "<p>Not configured: alert and escalation state is not shown. "
            "Start <code>serve</code> with <code>--alertmanager-url URL</code>.</p>"
        )
    elif state.status == "waiting":
        body = f"<p>Waiting for the first answer of {where}.</p>"
    else:
        firing = sum(1 for a in state.alerts if a.state == "active")
        suppressed = sum(1 for a in state.alerts if a.state == "suppressed")
        body = (
            f'<p class="big">{firing} firing</p><p>{suppressed} suppressed, '
            f"as of {html.when(state.fetched_at, now)}, from {where}</p>"
        )
        if state.error:
            body = (
                f'<p class="bad">Unreachable: {escape(state.error)} '
                f"(tried {html.when(state.checked_at, now)}).</p>{body}"
            )
    return f'<section class="card" id="alertmanager"><h2>Alertmanager</h2>{body}</section>'


def _scope(group: GroupView) -> str:
    tenant = group.tenant_name or "no tenant"
    return f"{tenant} / {group.service}"


def _group(group: GroupView, now: float, alerts_known: bool) -> str:
    css = "failing" if group.failing else "maintenance" if group.maintenance else group.state
    notes = [f"{len(group.failing)} of {len(group.targets)} failing"] if group.failing else []
    if group.maintenance:
        notes.append(f"maintenance: {', '.join(group.maintenance)}")
    notes += [_alert(a, scoped=False) for a in group.alerts]
    tenant = escape(group.tenant_name or "no tenant")
    if group.tenant and group.tenant_name != group.tenant:
        tenant += f' <span class="muted">({escape(group.tenant)})</span>'
    head = (
        f'<tr class="group {css}" id="{escape(group.anchor)}"><th colspan="{len(COLUMNS)}">'
        f"{tenant} / {escape(group.service)}"
        + "".join(f' · <span class="note">{n}</span>' for n in notes)
        + "</th></tr>"
    )
    rows = "".join(_row(t, now, alerts_known) for t in group.targets)
    return f"<tbody>{head}{rows}</tbody>"


def _row(view: TargetView, now: float, alerts_known: bool) -> str:
    target = view.about
    described = ""
    if target.description:
        described = f'<div class="muted">{escape(target.description)}</div>'
    cells = [
        (
            "Target",
            f"<b>{escape(target.name)}</b> {_severity(target.severity)}"
            f'<div class="muted">{escape(target.kind)} · {escape(target.context)}</div>{described}',
        ),
        ("State", _state(view)),
        ("Recent runs", _history(view.history)),
        ("Last failure", _failure(view, now)),
        ("Alerts", _alerts(view.alerts, alerts_known)),
        ("Links", _links(view)),
    ]
    tds = "".join(f'<td data-label="{label}">{content}</td>' for label, content in cells)
    return f'<tr class="target {view.state}" data-target="{escape(target.name)}">{tds}</tr>'


def _severity(severity: str) -> str:
    css = "bad" if severity in ("emergency", "critical") else "warn" if severity == "high" else ""
    return f'<span class="badge {css}">{escape(severity)}</span>'


def _state(view: TargetView) -> str:
    maintenance = ' <span class="badge maint">maintenance</span>' if view.maintenance else ""
    if view.state == FAILING:
        outcome = OUTCOME_WORDS[view.outcome]
        return (
            f'<span class="badge bad">FAILING</span>{maintenance}'
            f"<div>{view.consecutive_failures} in a row</div>"
            f'<div class="outcome {escape(view.outcome)}"><b>{outcome}</b></div>'
        )
    if view.state == PENDING:
        return f'<span class="muted">pending: no run yet</span>{maintenance}'
    return f'<span class="ok">ok</span>{maintenance}'


def _history(segments: tuple[Segment, ...]) -> str:
    cells = []
    for s in segments:
        css = f"s-{s.outcome}" + (" s-m" if s.maintenance else "")
        cells.append((css, s.runs, _segment_title(s)))
    held, failed = runs_held(segments), failed_runs(segments)
    label = f"{failed} of the last {held} runs failed" if held else "no run yet"
    return html.strip(cells, label) + f'<div class="muted">{escape(label)}</div>'


def _segment_title(s: Segment) -> str:
    if s.result == NO_RUN:
        return f"{s.runs} runs to come"
    span = html.clock(s.start)
    if s.end != s.start:
        span += f" to {html.clock(s.end)}"
    inside = ", in maintenance" if s.maintenance else ""
    runs = "1 run" if s.runs == 1 else f"{s.runs} runs"
    return f"{runs} {s.result}{inside}: {span}"


def _failure(view: TargetView, now: float) -> str:
    failure = view.last_failure
    if failure is None:
        return '<span class="muted">none</span>'
    words = OUTCOME_WORDS.get(failure.outcome, failure.outcome)
    explained = FAILURE_REASONS.get(failure.reason, "")
    return (
        f'<b title="{escape(explained)}">{escape(failure.reason)}</b> '
        f'<span class="badge">{words}</span> {html.when(failure.at, now)}'
        f'<div class="detail">{escape(failure.detail)}</div>'
    )


def _alert(alert: Alert, *, scoped: bool = True) -> str:
    if alert.state == "suppressed":
        why = "silenced" if alert.silenced else "inhibited" if alert.inhibited else "suppressed"
        state = f'<span class="muted">{why}</span>'
    else:
        state = '<span class="bad">firing</span>' if alert.state == "active" else alert.state
    level = alert.escalation_level
    escalated = ""
    if level:
        to = alert.labels.get("escalate_to", "")
        escalated = f" · <b>escalated</b> to level {level}{f' ({escape(to)})' if to else ''}"
    scope = ""
    if scoped and "probe" not in alert.labels:
        parts = [alert.labels.get(k, "") for k in ("tenant", "service")]
        scope = " " + escape(" / ".join(p for p in parts if p)) if any(parts) else ""
    return f"{escape(alert.name)}{scope} {state}{escalated}"


def _alerts(alerts: tuple[Alert, ...], known: bool) -> str:
    if not known:
        return '<span class="muted">unknown</span>'
    return "".join(f"<div>{_alert(a)}</div>" for a in alerts) or '<span class="muted">none</span>'


def _links(view: TargetView) -> str:
    links = [f'<a href="{escape(view.debug_url)}">debug</a>']
    if view.runbook_url.startswith(("https://", "http://")):
        links.insert(0, f'<a href="{escape(view.runbook_url)}" rel="noreferrer">runbook</a>')
    return " · ".join(links)
