"""How long `generate` takes as configs grow: build() of the bundle, and write() of its files.

Builds configs in memory (8 alert definitions with 3-level chains, as in the seeds' matrix;
targets spread over 20 services and 10 tenants), times each stage best of three, and prints a
table. `alerts` and `slo` are the builders' share of build (values, before rendering); `build`
is the whole bundle as text, `write` writes it to an empty directory.
Run: .venv/bin/python bench/generate_time.py
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from exporter.config import Config, parse_config
from exporter.generate.bundle import build, write
from exporter.generate.rules.alerts import alert_rule_files
from exporter.generate.rules.slo import slo_rule_files
from exporter.generate.ruletests.alerts import alert_test_files
from exporter.generate.ruletests.slo import slo_test_files

SIZES = (10, 100, 1000, 5000)
SEVERITIES = ("emergency", "critical", "high", "medium")
ALERTS = 8


def config_text(targets: int) -> str:
    return yaml.safe_dump(config_data(targets))


def config_data(targets: int) -> dict[str, Any]:
    """A config of `targets` targets over 8 alert definitions, 20 services and 10 tenants."""
    alerts = {
        f"alert_{i}": {
            "severity": SEVERITIES[i % len(SEVERITIES)],
            "context": "revenue_critical",
            "business_impact": f"Failure kind {i}: {{service}} down for {{tenant}}",
            "recovery_sla": "15m",
            "escalation_time": "5m",
            "escalation_chain": ["oncall_engineer", "engineering_manager", "cto"],
            "technical_message": "FAILURE: {error_details}",
            "runbook_url": "https://runbooks.example.com/{probe}",
        }
        for i in range(ALERTS)
    }
    return {
        "contexts": {"revenue_critical": {"revenue_at_risk": {"amount": 925000}}},
        "alerts": alerts,
        "targets": [
            {
                "name": f"target_{i}",
                "context": "revenue_critical",
                "service": f"service_{i % 20}",
                "tenant": f"tenant_{i % 10}",
                "alert": f"alert_{i % ALERTS}",
                "interval": f"{15 * (1 + i % 4)}s",
                "http": {"url": f"http://127.0.0.1:8000/check/{i}"},
            }
            for i in range(targets)
        ],
    }


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    head = ("targets", "parse", "alerts", "slo", "build", "write", "files", "bytes")
    print("{:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6} {:>11}".format(*head))
    for size in SIZES:
        print(_row(size))


def _row(size: int) -> str:
    text = config_text(size)
    config: Config = parse_config(text)
    files = build(config)
    times = [
        best_of(3, lambda: parse_config(text)),
        best_of(3, lambda: (alert_rule_files(config), alert_test_files(config))),
        best_of(3, lambda: (slo_rule_files(config), slo_test_files(config))),
        best_of(3, lambda: build(config)),
        best_of(3, lambda: _write_fresh(files)),
    ]
    cells = " ".join(f"{t:>8.3f}s" for t in times)
    size_bytes = sum(len(t.encode()) for t in files.values())
    return f"{size:>8} {cells} {len(files):>6} {size_bytes:>11,}"


def _write_fresh(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as out:
        write(files, Path(out))


if __name__ == "__main__":
    main()
