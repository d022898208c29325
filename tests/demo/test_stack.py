"""The demo's Prometheus and Alertmanager: faster timings, and what is left out without them.

Starting the stack for real is tests/test_alerting_end_to_end.py's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.config import Config, parse_config, parse_duration
from exporter.conventions import ALERT_WATCHDOG
from exporter.demo.fast import speed_up
from exporter.demo.servers import ServerUnavailable
from exporter.demo.stack import StackOptions, demo_stack, started_stack
from exporter.generate.alertmanager.model import Route
from exporter.generate.alertmanager.routes import route_tree

CONFIG = """
alerts:
  zebra_admin_failure:
    severity: critical
    context: zebra_opportunity
    business_impact: Zebra
    recovery_sla: 30m
    escalation_time: 10m
    escalation_chain: [oncall_engineer, product_manager]
  plain: {severity: high, context: zebra_opportunity, business_impact: Plain, recovery_sla: 1h}
contexts:
  zebra_opportunity: {}
targets:
  - {name: slow, context: zebra_opportunity, service: s, alert: zebra_admin_failure,
     interval: 60s, timeout: 10s, http: {url: "http://127.0.0.1:1/"}}
  - {name: fast, severity: high, context: zebra_opportunity, service: s, alert: plain,
     interval: 30s, timeout: 5s, http: {url: "http://127.0.0.1:1/"}}
  - {name: already_fast, severity: high, context: zebra_opportunity, service: s,
     interval: 2s, timeout: 1s, http: {url: "http://127.0.0.1:1/"}}
"""


def test_fast_divides_intervals_and_escalation_times_but_not_below_the_scrape_interval() -> None:
    config = speed_up(parse_config(CONFIG), 10)
    timings = {t.name: (t.interval, t.timeout) for t in config.targets}
    # 60s / 10; 30s / 10 is 3 s, below the 5 s scrape: 5 s; a 2 s interval stays as it is.
    assert timings == {"slow": (6.0, 6.0), "fast": (5.0, 5.0), "already_fast": (2.0, 1.0)}
    assert config.alerts["zebra_admin_failure"].escalation_time == 60.0
    assert config.alerts["plain"].escalation_time is None


def _effective_timings(route: Route, inherited: tuple[float, ...] = ()) -> list[tuple[float, ...]]:
    """(group_wait, group_interval, repeat_interval) of every route but the Watchdog's, as
    Alertmanager applies them: a route without a timing inherits its parent's."""
    own = (route.group_wait, route.group_interval, route.repeat_interval)
    timings = tuple(
        parse_duration(mine) if mine else parent
        for mine, parent in zip(own, inherited or (0.0,) * 3, strict=True)
    )
    found = [] if any(m.value == ALERT_WATCHDOG for m in route.matchers) else [timings]
    for child in route.routes:
        found += _effective_timings(child, timings)
    return found


def test_fast_divides_the_timings_of_every_alertmanager_route_nested_or_inherited(
    reference: Config,
) -> None:
    before = _effective_timings(route_tree(reference)[0])
    after = _effective_timings(route_tree(speed_up(reference, 10))[0])
    assert len(after) == len(before) > 10
    assert after == [tuple(t / 10 for t in timings) for timings in before]
    # The Zebra route sets only group_wait: it inherits the root's 5m group_interval, now 30 s.
    zebra = route_tree(speed_up(reference, 10))[0].routes
    assert any(r.group_wait == "1s" and not r.group_interval for r in zebra)
    assert after[0] == (3.0, 30.0, 1440.0)


def test_without_the_binaries_the_demo_says_what_it_leaves_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing there
    with demo_stack(parse_config(CONFIG), "127.0.0.1:9117") as (banner, stack):
        text = "\n".join(banner)
        assert stack is None
    assert "Prometheus and Alertmanager are left out" in text
    assert "prometheus (Debian package prometheus)" in text
    assert "prometheus-alertmanager (Debian package prometheus-alertmanager)" in text
    with (
        pytest.raises(ServerUnavailable, match="not on PATH: prometheus"),
        started_stack(parse_config(CONFIG), tmp_path, StackOptions("127.0.0.1:9117")),
    ):
        pass
