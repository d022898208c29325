"""The report as Markdown: a summary table of every tenant, then each tenant's incidents."""

from __future__ import annotations

from exporter.report.compute import Report, TenantReport
from exporter.report.text import duration, percent, seconds_text, verdict, when


def render_markdown(report: Report) -> str:
    period = report.period
    lines = [
        f"# SLA report: {when(period.start)} to {when(period.end)}",
        "",
        f"Generated {when(report.generated_at)}. Runs inside maintenance windows are left out.",
        "",
        "| tenant | tier | objective | availability | error budget left | p95 | SLA |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [_row(t) for t in report.tenants]
    for tenant in report.tenants:
        lines += ["", *_details(tenant)]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _row(t: TenantReport) -> str:
    p95 = seconds_text(t.latency.p95_seconds) if t.latency else "-"
    cells = [
        t.display_name,
        t.tier or "-",
        percent(t.objective) if t.objective is not None else "-",
        percent(t.availability),
        percent(t.error_budget_remaining, 1) if t.error_budget_remaining is not None else "-",
        p95,
        verdict(t.compliant),
    ]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _details(t: TenantReport) -> list[str]:
    out = [f"## {_cell(t.display_name)}", ""]
    if t.latency is not None:
        latency = t.latency
        out.append(
            f"Latency: p95 {seconds_text(latency.p95_seconds)}; "
            f"{percent(latency.within, 2)} of runs within "
            f"{seconds_text(latency.objective_seconds)} "
            f"(objective {percent(latency.objective, 0)})."
        )
    if t.windows:
        out.append(
            f"Maintenance left out: {duration(t.maintenance_seconds)} ({', '.join(t.windows)})."
        )
    if not t.incidents:
        return [*out, "", "No incidents."]
    out += ["", "| start | end | duration | service | probes |", "| --- | --- | --- | --- | --- |"]
    out += [
        f"| {when(i.start)} | {when(i.end)} | {duration(i.seconds)} | {_cell(i.service)} "
        f"| {_cell(', '.join(i.probes))} |"
        for i in t.incidents
    ]
    return out
