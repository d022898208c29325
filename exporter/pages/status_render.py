"""A tenant's status page in HTML (`/status/<tenant>`) and JSON (`/api/v1/status/<tenant>`).

Self-contained: no link to the exporter's other pages, which a customer could not open, so
the page can be put before the public on its own (README: Pages).
"""

from __future__ import annotations

from html import escape
from typing import Any

from exporter.pages import html
from exporter.pages.oncall_json import iso
from exporter.pages.status import (
    DISRUPTED,
    MAINTENANCE,
    OPERATIONAL,
    Planned,
    ServiceStatus,
    Stretch,
    TenantStatus,
)

WORDS = {
    OPERATIONAL: "Operational",
    DISRUPTED: "Disrupted",
    MAINTENANCE: "Maintenance",
    "unknown": "Not yet checked",
    "none": "No check",
}
HEADLINES = {
    OPERATIONAL: "All services operational",
    DISRUPTED: "Service disruption",
    MAINTENANCE: "Scheduled maintenance in progress",
    "unknown": "Status not yet known",
}
_CSS = {OPERATIONAL: "ok", DISRUPTED: "bad", MAINTENANCE: "maint", "unknown": "muted"}
_STRIP = {OPERATIONAL: "s-success", DISRUPTED: "s-disrupted", MAINTENANCE: "s-maintenance"}


def status_json(view: TenantStatus) -> dict[str, Any]:
    return {
        "tenant": view.tenant,
        "name": view.name,
        "generated_at": iso(view.generated_at),
        "status": view.status,
        "history_since": iso(view.since),
        "services": [
            {
                "service": s.service,
                "status": s.status,
                "availability": s.availability,
                "history": [
                    {"from": iso(h.start), "to": iso(h.end), "status": h.status} for h in s.history
                ],
            }
            for s in view.services
        ],
        "maintenance": [
            {
                "from": iso(p.start),
                "to": iso(p.end),
                "services": list(p.services),
                "in_progress": p.in_progress,
            }
            for p in view.maintenance
        ],
    }


def status_html(view: TenantStatus, refresh: int) -> str:
    now = view.generated_at
    headline = HEADLINES[view.status]
    affected = [s.service for s in view.services if s.status == view.status]
    if view.status in (DISRUPTED, MAINTENANCE):
        headline += ": " + ", ".join(affected)
    body = (
        f"<h1>{escape(view.name)} status</h1>"
        f'<p class="muted">Updated {escape(html.clock(now))}</p>'
        f'<section class="card headline"><p class="big {_CSS[view.status]}">'
        f"{escape(headline)}</p></section>"
        + _maintenance(view.maintenance)
        + '<h2>Services</h2><p class="muted">Recent checks, since '
        f"{escape(html.clock(view.since))} (oldest on the left).</p>"
        + '<table class="services"><colgroup><col style="width:22%"><col style="width:18%">'
        '<col style="width:45%"><col style="width:15%"></colgroup><thead><tr><th>Service</th>'
        "<th>Status</th><th>Recent history</th><th>Checks passed</th></tr></thead><tbody>"
        + "".join(_service(s) for s in view.services)
        + "</tbody></table>"
    )
    return html.page(f"{view.name} status", body, refresh)


def _service(service: ServiceStatus) -> str:
    cells = [(_STRIP.get(h.status, "s-none"), 1, _title(h)) for h in service.history]
    shown = "n/a" if service.availability is None else f"{service.availability * 100:.2f}%"
    status = service.status
    return (
        f'<tr class="service {status}">'
        f'<td data-label="Service"><b>{escape(service.service)}</b></td>'
        f'<td data-label="Status" class="{_CSS[status]}">{WORDS[status]}</td>'
        f'<td data-label="Recent history">{html.strip(cells, _summary(service))}</td>'
        f'<td data-label="Checks passed">{shown}</td></tr>'
    )


def _title(stretch: Stretch) -> str:
    return f"{html.clock(stretch.start)} to {html.clock(stretch.end)}: {WORDS[stretch.status]}"


def _summary(service: ServiceStatus) -> str:
    disrupted = sum(1 for h in service.history if h.status == DISRUPTED)
    return f"{service.service}: {disrupted} of {len(service.history)} recent stretches disrupted"


def _maintenance(planned: tuple[Planned, ...]) -> str:
    if not planned:
        return ""
    items = "".join(
        f"<li>In progress: {escape(', '.join(p.services))}, until {escape(html.clock(p.end))}</li>"
        if p.in_progress
        else f"<li>Planned: {escape(', '.join(p.services))}, {escape(html.clock(p.start))} "
        f"to {escape(html.clock(p.end))}</li>"
        for p in planned
    )
    return f'<h2>Maintenance</h2><ul class="maintenance">{items}</ul>'
