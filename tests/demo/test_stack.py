"""The demo's Prometheus and Alertmanager: faster timings, and what is left out without them.

Starting the stack for real is tests/test_alerting_end_to_end.py's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.config import parse_config
from exporter.demo.servers import ServerUnavailable
from exporter.demo.stack import StackOptions, demo_stack, speed_up, started_stack

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


def test_without_the_binaries_the_demo_says_what_it_leaves_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing there
    with demo_stack(parse_config(CONFIG), "127.0.0.1:9117", "http://127.0.0.1:8000") as banner:
        text = "\n".join(banner)
    assert "Prometheus and Alertmanager are left out" in text
    assert "prometheus (Debian package prometheus)" in text
    assert "prometheus-alertmanager (Debian package prometheus-alertmanager)" in text
    with (
        pytest.raises(ServerUnavailable, match="not on PATH: prometheus"),
        started_stack(parse_config(CONFIG), tmp_path, StackOptions("127.0.0.1:9117")),
    ):
        pass
