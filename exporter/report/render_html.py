"""The report as one HTML page: no script, no fetch, a stylesheet that prints on A4 with one
tenant per block and the bars' colours kept, so that a browser's "Save as PDF" is the PDF."""

from __future__ import annotations

from html import escape

from exporter.report.chart import availability_chart
from exporter.report.compute import Report, TenantReport
from exporter.report.text import duration, percent, seconds_text, verdict, when

STYLE = """
:root { font-family: system-ui, sans-serif; color: #1b1f24; }
body { max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
.period { color: #57606a; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 0.8rem 0; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid #d0d7de; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.met { color: #1a7f37; fill: #2da44e; }
.missed { color: #cf222e; fill: #cf222e; font-weight: 600; }
.nodata { fill: #8c959f; }
section.tenant { border-top: 2px solid #1b1f24; margin-top: 1.5rem; padding-top: 0.5rem; }
.figures { display: flex; flex-wrap: wrap; gap: 0.5rem 2rem; margin: 0.5rem 0; }
.figures div { min-width: 9rem; }
.figures dt { color: #57606a; font-size: 0.8rem; }
.figures dd { margin: 0; font-size: 1.2rem; font-variant-numeric: tabular-nums; }
svg.chart { width: 100%; height: auto; }
svg .axis { stroke: #57606a; }
svg .objective { stroke: #1b1f24; stroke-dasharray: 6 4; stroke-width: 1.5; }
svg .tick { font-size: 11px; fill: #57606a; }
@page { size: A4; margin: 15mm; }
@media print {
  body { margin: 0; max-width: none; }
  section.tenant { break-inside: avoid; page-break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def render_html(report: Report) -> str:
    period = f"{when(report.period.start)} to {when(report.period.end)}"
    body = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>SLA report, {escape(period)}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>SLA report</h1>",
        f'<p class="period">{escape(period)}. Generated {escape(when(report.generated_at))}. '
        "Runs inside maintenance windows are left out.</p>",
        _summary(report),
        *(_section(t) for t in report.tenants),
        "</body></html>",
    ]
    return "\n".join(body) + "\n"


def _summary(report: Report) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in ("Tenant", "Tier", "Objective", "Availability", "Budget left", "SLA")
    )
    rows = [
        f'<tr><td><a href="#{escape(t.tenant)}">{escape(t.display_name)}</a></td>'
        f"<td>{escape(t.tier or '-')}</td>"
        f'<td class="num">{_maybe(t.objective)}</td>'
        f'<td class="num">{percent(t.availability)}</td>'
        f'<td class="num">{_maybe(t.error_budget_remaining, 1)}</td>'
        f"<td{_class(t.compliant)}>{verdict(t.compliant)}</td></tr>"
        for t in report.tenants
    ]
    return f'<table class="summary"><tr>{head}</tr>{"".join(rows)}</table>'


def _section(t: TenantReport) -> str:
    figures = [
        ("Availability", percent(t.availability)),
        ("Objective", _maybe(t.objective)),
        ("Error budget left", _maybe(t.error_budget_remaining, 1)),
        ("SLA", verdict(t.compliant)),
    ]
    if t.latency is not None:
        figures.append(("p95 latency", seconds_text(t.latency.p95_seconds)))
        figures.append(
            (
                f"Within {seconds_text(t.latency.objective_seconds)}",
                f"{percent(t.latency.within, 2)} (objective {percent(t.latency.objective, 0)})",
            )
        )
    if t.windows:
        figures.append(("Maintenance left out", duration(t.maintenance_seconds)))
    dl = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in figures)
    return "\n".join(
        [
            f'<section class="tenant" id="{escape(t.tenant)}">',
            f"<h2>{escape(t.display_name)} <small>({escape(t.tier or 'no tier')})</small></h2>",
            f'<dl class="figures">{dl}</dl>',
            availability_chart(t.chart, t.objective, t.display_name),
            _incidents(t),
            "</section>",
        ]
    )


def _incidents(t: TenantReport) -> str:
    if not t.incidents:
        return '<p class="incidents">No incidents.</p>'
    head = "".join(f"<th>{h}</th>" for h in ("Start", "End", "Duration", "Service", "Probes"))
    rows = [
        f"<tr><td>{when(i.start)}</td><td>{when(i.end)}</td>"
        f'<td class="num">{duration(i.seconds)}</td><td>{escape(i.service)}</td>'
        f"<td>{escape(', '.join(i.probes))}</td></tr>"
        for i in t.incidents
    ]
    return f'<table class="incidents"><tr>{head}</tr>{"".join(rows)}</table>'


def _maybe(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else percent(value, digits)


def _class(compliant: bool | None) -> str:
    return {True: ' class="met"', False: ' class="missed"', None: ""}[compliant]
