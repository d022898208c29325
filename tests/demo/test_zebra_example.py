"""The README's headline example, run as a person runs it, after another fault: `make demo`,
the admin router dropped and restored, then the login answering 500. The Zebra receivers must
hear of ZebraAdminFailure within the time the banner states for their route.

Alertmanager keeps a group alive while it still holds alerts to flush, and a new alert in it
waits for the group's next group_interval: the earlier fault leaves the Zebra group alive, which
is the case a fresh stack never shows.
"""

from __future__ import annotations

import re
import time
import urllib.parse
import urllib.request
from collections.abc import Callable

import pytest

from exporter.demo.stack import get_json
from tests.demo.running import ROOT, Demo, Line, running_demo
from tests.servers import wait_for

ZEBRA = "email_matt_lindop + email_sales_team + slack_zebra_channel"
README_STATES = re.compile(r"The Zebra receivers hear of it within (\d+) s")
WITHIN = re.compile(
    rf"ZebraAdminFailure probe=zebra_admin_login_flow -> {re.escape(ZEBRA)} within (\d+) s"
)


def _url(demo: Demo, what: str) -> str:
    match = re.search(rf"^\s*{what}\s+(http://127\.0\.0\.1:\d+)", demo.output, re.MULTILINE)
    assert match is not None, demo.output
    return match.group(1)


def _post(url: str) -> None:
    with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=5) as answer:
        assert answer.status == 200


def _firing(prometheus: str) -> list[str]:
    """The alerts Prometheus fires, Watchdog aside."""
    query = urllib.parse.urlencode({"query": 'ALERTS{alertstate="firing",alertname!="Watchdog"}'})
    result = get_json(f"{prometheus}/api/v1/query?{query}")["data"]["result"]
    return [r["metric"]["alertname"] for r in result]


def _notified(alertname: str, after: float, **labels: str) -> Callable[[Line], bool]:
    """A line the demo prints when the Zebra receivers are told `alertname` is firing."""
    shown = "".join(f".* {name}={re.escape(value)}" for name, value in labels.items())
    pattern = re.compile(rf"FIRING\s+{alertname}{shown} .*-> {re.escape(ZEBRA)}$")
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

        _post(f"{api}/_faults/routers/admin/drop")
        dropped = time.monotonic()
        demo.wait_for(
            _notified("BusinessServiceOutage", dropped, service="admin"),
            timeout=120,
            what="the admin outage at the Zebra receivers",
        )
        assert "ZebraAdminFailure" in _firing(prometheus)  # in the Zebra group, inhibited
        _post(f"{api}/_faults/routers/admin/restore")
        wait_for(lambda: not _firing(prometheus), timeout=120, what="every alert resolved")

        _post(f"{api}/_faults/error?path=/api/v1/auth/login")  # the README's example
        fault = time.monotonic()
        line: Line = demo.wait_for(
            _notified("ZebraAdminFailure", fault, probe="zebra_admin_login_flow"),
            timeout=300,
            what="ZebraAdminFailure at the Zebra receivers",
        )
        _post(f"{api}/_faults/reset")
    assert line.monotonic - fault <= int(stated.group(1)), line.text
