"""Maintenance windows in the SLI rules: runs inside a window are left out.

The exporter exposes `business_maintenance_window_active{window, tenant, service}`, 1 while a
window holds for the targets of that tenant and service. Every rule that reads the raw run
counters or duration buckets drops the series of a tenant's service whose 5m window saw the
maintenance active at any sample (`unless on (tenant, service)`): a run inside the window is
then in no rate, and neither in the SLIs, the error budgets nor the burn-rate alerts built on
them. A 5m rate that straddles the window's end is left out with it; one that starts at the
end reads only later runs. Alertmanager's side is alertmanager/maintenance.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from exporter import conventions as c
from exporter.config import Config, Target, format_duration

# The 5m of the rates: a rate whose span saw the window is left out whole.
IN_WINDOW = f"(max_over_time({c.MAINTENANCE_ACTIVE}[5m]) == 1)"


def leave_out(config: Config, expr: str) -> str:
    """`expr` (series with tenant and service labels) less the series in maintenance; as is
    for a config without windows."""
    if not config.maintenance:
        return expr
    return f"{expr} unless on ({c.LABEL_TENANT}, {c.LABEL_SERVICE}) {IN_WINDOW}"


def quiet_in_windows(config: Config, targets: Sequence[Target], expr: str) -> str:
    """An alert's `expr`, silent while a window covers its series' tenant and service, and for
    as long after it as the slowest of `targets` takes to be seen fixed (success_threshold
    runs) plus a minute for a scrape and an evaluation.

    Alertmanager mutes the window; this keeps the alert from firing in it at all, so that an
    escalation's `for` does not run through the window, and a target fixed at its end pages
    nobody while the exporter still counts the successes that clear it.
    """
    minutes = quiet_minutes(config, targets)
    if not minutes:
        return expr
    active = f"max_over_time({c.MAINTENANCE_ACTIVE}[{format_duration(minutes * 60)}]) == 1"
    return f"{expr}\nunless on ({c.LABEL_TENANT}, {c.LABEL_SERVICE}) ({active})"


def quiet_minutes(config: Config, targets: Sequence[Target]) -> int:
    """How long, in whole minutes, an alert over `targets` keeps quiet after a window (a
    window's last active sample included); 0 when no window covers any of them."""
    windows = list(config.maintenance.values())
    covered = [t for t in targets if any(w.covers(t.tenant, t.service) for w in windows)]
    if not covered:
        return 0
    return math.ceil((max(t.interval * t.success_threshold for t in covered) + 60) / 60)
