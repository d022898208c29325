"""`business-exporter report`: load, query with a progress line on stderr, compute, render."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from exporter.config import Config
from exporter.config.maintenance import excluded_spans
from exporter.report.collect import collect
from exporter.report.compute import Report, compute, tenants_of
from exporter.report.period import Period, PeriodError
from exporter.report.prometheus import Prometheus, PrometheusError
from exporter.report.render_html import render_html
from exporter.report.render_json import render_json
from exporter.report.render_markdown import render_markdown

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
RENDERERS: dict[str, Callable[[Report], str]] = {
    "json": render_json,
    "html": render_html,
    "markdown": render_markdown,
}


def run_report(
    config: Config,
    prometheus_url: str,
    start: str,
    end: str,
    *,
    tenant: str | None = None,
    output: str = "json",
    out: Path | None = None,
    step: float = 60.0,
    err: TextIO | None = None,
) -> int:
    """Write the report to `out` (stdout without it); the exit code."""
    err = err or sys.stderr
    try:
        period = Period.parse(start, end)
    except PeriodError as problem:
        print(f"report: {problem}", file=err)
        return EXIT_USAGE
    tenants = tenants_of(config)
    if tenant is not None and tenant not in tenants:
        known = ", ".join(tenants) or "none"
        print(f"report: unknown tenant {tenant!r}; the config's tenants: {known}", file=err)
        return EXIT_USAGE
    chosen = [tenant] if tenant else tenants
    progress = _Progress(err)
    try:
        raw = collect(
            Prometheus(prometheus_url),
            period.stretches(_cuts(config, period, chosen)),
            tenant,
            step,
            progress,
        )
    except PrometheusError as problem:
        progress.done()
        print(f"report: {problem}", file=err)
        return EXIT_FAILED
    progress.done()
    text = RENDERERS[output](compute(config, period, raw, chosen, datetime.now(UTC)))
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"report: wrote {out}", file=err)
    return EXIT_OK


def _cuts(config: Config, period: Period, tenants: list[str]) -> list[tuple[datetime, datetime]]:
    """Every maintenance span of the period that touches one of the tenants' services."""
    scopes = {(t.tenant, t.service) for t in config.targets if t.tenant in tenants}
    return [
        span
        for s in sorted(scopes)
        for span in excluded_spans(config, *s, period.start, period.end)
    ]


class _Progress:
    """One line on stderr, rewritten as the queries go; into a file or a pipe, where a
    rewritten line would pile up, the first message and the last phase only."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.width = 0
        self.rewrite = err.isatty()

    def __call__(self, message: str) -> None:
        if self.rewrite:
            self.err.write("\r" + message.ljust(self.width))
        elif not self.width or "stretch" not in message:
            self.err.write(("\n" if self.width else "") + message)
        self.err.flush()
        self.width = len(message)

    def done(self) -> None:
        if self.width:
            self.err.write("\n")
            self.err.flush()
