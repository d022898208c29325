"""Pages: the time to render the on-call page, its JSON and a status page, by number of targets.

    .venv/bin/python bench/pages.py [--targets 1000 10000] [--failing 0.05] [--repeat 5]

Each target's ring is full (60 runs); a share of them (--failing) is failing, its recent runs
failed, the others healthy. The page renders on the event loop: its time is how long a request
holds the loop, and so delays probe starts. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from exporter.config import load_config
from exporter.pages.alertmanager import NOT_CONFIGURED
from exporter.pages.oncall import oncall_view
from exporter.pages.oncall_html import oncall_html
from exporter.pages.oncall_json import oncall_json
from exporter.pages.status import tenant_status
from exporter.pages.status_render import status_html
from exporter.plan import compile_plan
from exporter.probes import ProbeResult
from exporter.runtime import Runtime
from exporter.state import HISTORY_RUNS, TargetState

TENANTS = 50


def config_text(targets: int) -> str:
    lines = ["tenants:"]
    lines += [f"  t{i}: {{tier: gold, status_page: true}}" for i in range(TENANTS)]
    lines.append("targets:")
    for i in range(targets):
        lines.append(
            f"  - {{name: target_{i}, severity: high, context: revenue, service: s{i % 7}, "
            f"tenant: t{i % TENANTS}, revenue_at_risk: {{amount: {1000 + i}, currency: GBP}}, "
            'http: {url: "http://127.0.0.1:1/"}}'
        )
    return "\n".join(lines) + "\n"


def runtime_of(targets: int, failing: float, folder: Path) -> Runtime:
    path = folder / f"targets-{targets}.yaml"
    path.write_text(config_text(targets))
    config = load_config(path)
    runtime = Runtime(config, path, max_concurrency=100)
    now = time.time()
    bad = ProbeResult.failed("unexpected_status", "status 500, expected 2xx")
    every = max(1, round(1 / failing)) if failing else 0
    for i, target in enumerate(config.targets):
        state = TargetState(compile_plan(target))
        fails = every and i % every == 0
        for run in range(HISTORY_RUNS):
            result = bad if fails and run >= HISTORY_RUNS - 5 else ProbeResult.ok()
            state.record(result, 0.01, now - (HISTORY_RUNS - run) * 30)
        runtime.scheduler.states[target.name] = state
    return runtime


def page(runtime: Runtime) -> str:
    return oncall_html(oncall_view(runtime, NOT_CONFIGURED, time.time()), 15)


def data(runtime: Runtime) -> object:
    return oncall_json(oncall_view(runtime, NOT_CONFIGURED, time.time()))


def status(runtime: Runtime) -> str:
    return status_html(tenant_status(runtime, "t0", time.time()), 15)


def timed(work: Callable[[], object], repeat: int) -> tuple[float, int]:
    """Median seconds of `work`, and the size of what it made."""
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        made = work()
        times.append(time.perf_counter() - started)
        size = len(str(made))
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--failing", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'targets':>8} {'page':>22} {'JSON':>22} {'status page':>20}")
    with tempfile.TemporaryDirectory() as name:
        for targets in args.targets:
            runtime = runtime_of(targets, args.failing, Path(name))
            cells = []
            for work in (page, data, status):
                seconds, size = timed(functools.partial(work, runtime), args.repeat)
                cells.append(f"{seconds * 1000:8.1f} ms {size / 1e6:7.2f} MB")
            print(f"{targets:>8} {cells[0]:>22} {cells[1]:>22} {cells[2]:>20}")


if __name__ == "__main__":
    main()
