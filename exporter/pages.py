"""The human page at `/`: every target, its state and why it last failed."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from exporter import __version__
from exporter.runtime import Runtime
from exporter.state import TargetState

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:left}
.failing{color:#b00;font-weight:bold}.ok{color:#080}.pending{color:#888}
"""


def index(runtime: Runtime, now: float) -> str:
    """Render the page for the runtime's current state table."""
    rows = "\n".join(_row(s, now) for s in runtime.scheduler.states.values())
    reload_note = (
        ""
        if runtime.last_reload_successful
        else (
            "<p class=failing>The last config reload failed: "
            "the previous config is still running.</p>"
        )
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>business_exporter</title><style>{_STYLE}</style></head>
<body><h1>business_exporter {escape(__version__)}</h1>
<p><a href="/metrics">Metrics</a> · <a href="/-/healthy">Healthy</a> ·
<a href="/-/ready">Ready</a></p>
{reload_note}
<table><tr><th>Target</th><th>Kind</th><th>Severity</th><th>Context</th><th>Tenant</th>
<th>Service</th><th>State</th><th>Last result</th><th>Last success</th><th>Debug</th></tr>
{rows}
</table></body></html>
"""


def _row(state: TargetState, now: float) -> str:
    target, result = state.target, state.last_result
    if result is None:
        status, css = "pending", "pending"
    elif state.failing:
        # Whether the failure is known to be real, or the check could not run (conventions.py).
        kind = "violation found" if state.violation else "could not check"
        status, css = f"FAILING ({state.consecutive_failures} in a row): {kind}", "failing"
    else:
        status, css = "ok" if result.success else f"ok, {state.consecutive_failures} failed", "ok"
    last = (
        ""
        if result is None
        else ("success" if result.success else f"{result.reason}: {result.detail}")
    )
    cells = [
        target.name,
        target.kind,
        target.severity,
        target.context,
        target.tenant,
        target.service,
    ]
    link = f'<a href="/probe?target={quote(target.name)}&amp;debug=true">run now</a>'
    return (
        "<tr>"
        + "".join(f"<td>{escape(c)}</td>" for c in cells)
        + f'<td class="{css}">{escape(status)}</td><td>{escape(last)}</td>'
        + f"<td>{escape(_ago(state.last_success, now))}</td><td>{link}</td></tr>"
    )


def _ago(then: float | None, now: float) -> str:
    if then is None:
        return "never"
    seconds = max(0, int(now - then))
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}m ago"
    return f"{seconds // 3600}h ago"
