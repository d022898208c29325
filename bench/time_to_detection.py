"""Time to detection: a fault switched on in the demo API -> the first notification at the sink.

    .venv/bin/python bench/time_to_detection.py [--runs 5] [--factor 10]

The demo's arrangement with its timings (`demo --fast`): examples/marketedge.yaml with probe
intervals divided by --factor (never below the 5 s scrape interval), the exporter and the demo
API in this process, Prometheus scraping and evaluating every 5 s, Alertmanager with the
generated routing (its group_wait), every receiver a webhook to a local sink (`--notify-to`).
The PostgreSQL and Redis targets are left out: this fault does not touch them.

Each run starts a fresh Prometheus and Alertmanager (so Alertmanager has no aggregation group
left from the previous run, as after a quiet period), waits until the exporter is scraped and
nothing fires, makes the login endpoint answer 500, and times the first ZebraAdminFailure
notification (zebra_admin_login_flow cannot log in) and, on the way, the moment the exporter
turned the target failing. The floor beside them is the sum of every wait on the way: probe
interval x failure_threshold + scrape interval + evaluation interval + group_wait. It bounds
the phase waits rather than being a minimum: a run whose phases line up comes in under it
(ratio < 1); a ratio well above 1 means time lost on the way. Asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from exporter.config import Config, parse_config
from exporter.demo import backends
from exporter.demo.app import DEMO_PASSWORD, create_demo_app
from exporter.demo.fast import DEMO_INTERVAL, DEMO_SECONDS, FAST_FACTOR, speed_up
from exporter.demo.faults import Faults
from exporter.demo.sink import Post, WebhookSink
from exporter.demo.stack import StackOptions, free_port, started_stack, wait_until
from exporter.runtime import Runtime
from exporter.serve import uvicorn_config
from exporter.server import create_app

REFERENCE = Path(__file__).resolve().parents[1] / "examples" / "marketedge.yaml"
REFERENCE_API = "http://127.0.0.1:8000"
TARGET = "zebra_admin_login_flow"
ALERT = "ZebraAdminFailure"
FAULT_PATH = "/api/v1/auth/login"


@dataclass(frozen=True, slots=True)
class Run:
    failing: float  # fault -> the exporter turns the target failing
    seconds: float  # fault -> the first notification at the sink
    floor: float


@dataclass(frozen=True, slots=True)
class Demo:
    """What stays up across runs: the demo API's faults, the exporter, the sink."""

    config: Config
    faults: Faults
    runtime: Runtime
    exporter: str  # HOST:PORT
    sink: WebhookSink


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--factor", type=float, default=FAST_FACTOR)
    args = parser.parse_args()
    logging.getLogger("exporter").setLevel(logging.ERROR)  # not every target's state change
    os.environ.setdefault("ZEBRA_DEMO_PASSWORD", DEMO_PASSWORD)
    backends.set_environment()  # the database targets need their passwords to load, as in the demo
    app = create_demo_app()
    with _served(app) as api, WebhookSink() as sink, tempfile.TemporaryDirectory() as tmp:
        config = _config(api, args.factor)
        print(f"floor {_floor(config):g}s = {_floor_terms(config)}", flush=True)
        runtime = Runtime(config, None)
        address = f"127.0.0.1:{free_port()}"
        with _served(create_app(runtime), address):
            demo = Demo(config, app.state.faults, runtime, address, sink)
            runs = [_run(n, demo, Path(tmp) / f"run{n}") for n in range(1, args.runs + 1)]
    _table(runs)
    return 0


def _config(api: str, factor: float) -> Config:
    text = REFERENCE.read_text().replace(REFERENCE_API, api)
    config = parse_config(text)
    kept = [t for t in config.targets if t.kind not in ("postgres", "redis")]
    return speed_up(config.model_copy(update={"targets": kept}), factor)


def _floor_parts(config: Config) -> tuple[float, int, float]:
    target = config.target(TARGET)
    assert target is not None
    assert target.alert is not None
    alert = config.alerts[target.alert]
    routing = config.routing
    assert routing is not None
    routes = [routing.severities.get(alert.severity), routing.contexts.get(alert.context)]
    waits = [r.group_wait for r in routes if r is not None and r.group_wait is not None]
    return target.interval, target.failure_threshold, min(waits, default=routing.group_wait)


def _floor(config: Config) -> float:
    interval, threshold, group_wait = _floor_parts(config)
    return interval * threshold + 2 * DEMO_SECONDS + group_wait


def _floor_terms(config: Config) -> str:
    interval, threshold, group_wait = _floor_parts(config)
    return (
        f"interval {interval:g}s x failure_threshold {threshold} + scrape {DEMO_INTERVAL} "
        f"+ evaluation {DEMO_INTERVAL} + group_wait {group_wait:g}s"
    )


def _run(n: int, demo: Demo, directory: Path) -> Run:
    # Back to health first (the previous fault needs success_threshold runs to clear), so that
    # the fresh Prometheus has nothing to alert on before the fault.
    states = demo.runtime.scheduler.states
    if not wait_until(lambda: not any(s.failing for s in states.values()), 120):
        sys.exit(f"run {n}: targets still failing after 120 s")
    directory.mkdir()
    options = StackOptions(demo.exporter, DEMO_INTERVAL, DEMO_INTERVAL, demo.sink.url)
    with started_stack(demo.config, directory, options) as stack:
        scraped = f'business_probe_success{{probe="{TARGET}"}} == 1'
        if not wait_until(lambda: stack.query(scraped), 60):
            sys.exit(f"run {n}: Prometheus did not scrape {TARGET} within 60 s")
        demo.faults.error(FAULT_PATH)
        start = time.monotonic()
        failing: list[float] = []  # when the exporter turned the target failing

        def notified() -> list[Post]:
            if not failing and states[TARGET].failing:
                failing.append(time.monotonic() - start)
            return demo.sink.matching_within(lambda p: p.monotonic > start and _firing(p), 0)

        try:
            if not wait_until(notified, 180):
                sys.exit(f"run {n}: no {ALERT} notification within 180 s")
        finally:
            demo.faults.clear_error(FAULT_PATH)
    run = Run(failing[0], notified()[0].monotonic - start, _floor(demo.config))
    print(
        f"run {n}: failing after {run.failing:.1f}s, notified after {run.seconds:.1f}s", flush=True
    )
    return run


def _firing(post: Post) -> bool:
    body = post.body if isinstance(post.body, dict) else {}
    return body.get("status") == "firing" and any(
        a["labels"].get("alertname") == ALERT for a in body.get("alerts", [])
    )


def _table(runs: list[Run]) -> None:
    print(
        f"\n{'run':>4}  {'failing (s)':>11}  {'notified (s)':>12}  {'floor (s)':>9}  {'ratio':>5}"
    )
    rows = [(str(i), r.failing, r.seconds) for i, r in enumerate(runs, 1)]
    for name, pick in (("min", min), ("mean", statistics.mean), ("max", max)):
        rows.append((name, pick(r.failing for r in runs), pick(r.seconds for r in runs)))
    floor = runs[0].floor
    for name, failing, seconds in rows:
        print(
            f"{name:>4}  {failing:>11.1f}  {seconds:>12.1f}  {floor:>9.1f}  {seconds / floor:>5.2f}"
        )


@contextlib.contextmanager
def _served(app: object, address: str = "127.0.0.1:0") -> Iterator[str]:
    host, _, port = address.rpartition(":")
    server = uvicorn.Server(uvicorn_config(app, host, int(port)))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    if not wait_until(lambda: server.started, 10):
        sys.exit(f"nothing listens on {address}")
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
