"""The README's headline example, run as a person runs it, after another fault: `make demo`,
the admin router dropped, restored (the Zebra receivers are told it resolved), then dropped
again (the README's example). The Zebra receivers must hear of it (the admin outage, or the
admin endpoints' ZebraAdminFailure) within the time the banner states for their route, which
must be the README's. On the way: the demo's Prometheus scrapes the demo API's own /metrics,
which the app rules read.

Alertmanager keeps a group alive while it holds alerts to flush, and an emptied one until its
next cleanup (every 30 s); a new alert in it waits for the group's next group_interval: the
earlier fault leaves the Zebra outage's group alive, which is the case a fresh stack never
shows. (Dropped again before the Zebra receivers were told of the fix, the outage would be
the same alert to them, still firing: Alertmanager tells them nothing new.)
"""

from __future__ import annotations

import re
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from exporter.demo.stack import get_json
from tests.demo.running import ROOT, Demo, Line, running_demo
from tests.servers import wait_for

ZEBRA = "email_matt_lindop + email_sales_team + slack_zebra_channel"
README_STATES = re.compile(r"The Zebra receivers hear of it within (\d+) s")
WITHIN = re.compile(
    rf"BusinessServiceOutage service=admin tenant=zebra_associates -> {re.escape(ZEBRA)} "
    r"within (\d+) s"
)
ADMIN_ALERTS = "BusinessServiceOutage|ZebraAdminFailure"  # level 0: escalations go elsewhere


def _url(demo: Demo, what: str) -> str:
    match = re.search(rf"^\s*{what}\s+(http://127\.0\.0\.1:\d+)", demo.output, re.MULTILINE)
    assert match is not None, demo.output
    return match.group(1)


def _post(url: str) -> None:
    with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=5) as answer:
        assert answer.status == 200


def _query(prometheus: str, promql: str) -> list[dict[str, Any]]:
    query = urllib.parse.urlencode({"query": promql})
    result: list[dict[str, Any]] = get_json(f"{prometheus}/api/v1/query?{query}")["data"]["result"]
    return result


def _firing(prometheus: str) -> list[str]:
    """The alerts Prometheus fires, Watchdog aside."""
    found = _query(prometheus, 'ALERTS{alertstate="firing",alertname!="Watchdog"}')
    return [r["metric"]["alertname"] for r in found]


def _notified(
    alertname: str, after: float, status: str = "FIRING", **labels: str
) -> Callable[[Line], bool]:
    """A line the demo prints when the Zebra receivers are told `alertname` is firing (or has
    the `status` given)."""
    shown = "".join(f".* {name}={re.escape(value)}" for name, value in labels.items())
    pattern = re.compile(rf"{status}\s+(?:{alertname}){shown} .*-> {re.escape(ZEBRA)}$")
    return lambda line: line.monotonic > after and pattern.search(line.text) is not None


@pytest.mark.slow
def test_the_readme_example_tells_the_zebra_receivers_in_time_after_another_fault() -> None:
    with running_demo() as demo:
        demo.started()
        api, prometheus = _url(demo, "demo API"), _url(demo, "Prometheus")
        stated = WITHIN.search(demo.output)
        assert stated is not None, demo.output
        in_readme = README_STATES.search((ROOT / "README.md").read_text())
        assert in_readme is not None
        assert stated.group(1) == in_readme.group(1)
        wait_for(lambda: not _firing(prometheus), timeout=90, what="a quiet start")
        # The app rules have the demo API's own /metrics to fire on (`generate --app`).
        scraped = 'up{job="business_app"} == 1'
        wait_for(lambda: _query(prometheus, scraped), timeout=30, what="the demo API scraped")

        _post(f"{api}/_faults/routers/admin/drop")
        dropped = time.monotonic()
        demo.wait_for(
            _notified("BusinessServiceOutage", dropped, service="admin"),
            timeout=120,
            what="the admin outage at the Zebra receivers",
        )
        _post(f"{api}/_faults/routers/admin/restore")
        restored = time.monotonic()
        demo.wait_for(
            _notified("BusinessServiceOutage", restored, "RESOLVED", service="admin"),
            timeout=120,
            what="the admin outage resolved at the Zebra receivers",
        )

        _post(f"{api}/_faults/routers/admin/drop")  # the README's example
        fault = time.monotonic()
        line: Line = demo.wait_for(
            _notified(ADMIN_ALERTS, fault, service="admin"),
            timeout=300,
            what="the admin router dropped, at the Zebra receivers",
        )
        _post(f"{api}/_faults/reset")
    assert line.monotonic - fault <= int(stated.group(1)), line.text
