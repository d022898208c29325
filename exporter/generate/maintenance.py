"""Maintenance windows in the SLI rules: runs inside a window are left out.

The exporter exposes `business_maintenance_window_active{window, tenant, service}`, 1 while a
window holds for the targets of that tenant and service. Every rule that reads the raw run
counters or duration buckets drops the series of a tenant's service whose 5m window saw the
maintenance active at any sample (`unless on (tenant, service)`): a run inside the window is
then in no rate, and neither in the SLIs, the error budgets nor the burn-rate alerts built on
them. A 5m rate that straddles the window's end is left out with it; one that starts at the
end reads only later runs. Alertmanager's side is am_maintenance.py.
"""

from __future__ import annotations

from exporter import conventions as c
from exporter.config import Config

# The 5m of the rates: a rate whose span saw the window is left out whole.
IN_WINDOW = f"(max_over_time({c.MAINTENANCE_ACTIVE}[5m]) == 1)"


def leave_out(config: Config, expr: str) -> str:
    """`expr` (series with tenant and service labels) less the series in maintenance; as is
    for a config without windows."""
    if not config.maintenance:
        return expr
    return f"{expr} unless on ({c.LABEL_TENANT}, {c.LABEL_SERVICE}) {IN_WINDOW}"
