"""`business-exporter demo`: the demo API plus the exporter on the reference config.

Everything runs in this process or as its children, and stops with it: Ctrl-C (SIGINT), SIGTERM
(a supervisor, `docker stop`, `kill`) and SIGHUP (a closed terminal) all unwind the same way,
stopping each server and removing its files. The servers run in their own sessions, so that a
signal to the terminal's process group reaches this process alone and the servers stop in order.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import uvicorn

from exporter.config import Config, ConfigError, load_config
from exporter.demo import backends
from exporter.demo.app import DEMO_PASSWORD, create_demo_app
from exporter.demo.banner import fault_lines, fault_switches
from exporter.demo.expect import Timing
from exporter.demo.fast import DEMO_SECONDS, FAST_FACTOR, speed_up
from exporter.demo.ports import Address, usual_or_free
from exporter.demo.relocate import relocated
from exporter.demo.scenarios import demo_faults
from exporter.demo.servers import ServerUnavailable
from exporter.demo.stack import demo_stack
from exporter.runtime import Runtime
from exporter.serve import uvicorn_config
from exporter.server import create_app

API = ("127.0.0.1", 8000)
EXPORTER = ("127.0.0.1", 9117)
REFERENCE = Path(__file__).resolve().parents[2] / "examples" / "marketedge.yaml"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
TIMING = Timing(scrape=DEMO_SECONDS, evaluation=DEMO_SECONDS)
READY = "The demo runs."  # the banner's last line begins so


class Stopped(Exception):
    """A stop signal arrived: unwind, stopping every server on the way out."""


def run_demo(config_path: Path | None = None, fast: bool = False) -> int:
    """Serve the demo API and the exporter until a stop signal (Ctrl-C, SIGTERM, SIGHUP).

    Prometheus and Alertmanager run too when installed; `fast` divides the probe intervals,
    escalation times and Alertmanager timings by FAST_FACTOR.
    """
    with _stop_signals_raise():
        try:
            return _run(config_path or REFERENCE, fast)
        except Stopped:
            return 0
        except ServerUnavailable as err:
            print(err, file=sys.stderr)
            return 1


def _run(path: Path, fast: bool) -> int:
    # The reference config reads the Zebra admin's password from the environment, as secrets are.
    os.environ.setdefault("ZEBRA_DEMO_PASSWORD", DEMO_PASSWORD)
    backends.set_environment()  # and the demo databases' passwords
    try:
        config = load_config(path)
    except ConfigError as err:
        print(f"{path}: invalid config:\n{err}", file=sys.stderr)
        return 2
    api, api_moved = usual_or_free(API, "the demo API")
    exporter, exporter_moved = usual_or_free(EXPORTER, "the exporter")
    demo_api = create_demo_app()
    with backends.started() as databases:  # PostgreSQL and Redis, when installed

        def for_the_demo(loaded: Config) -> Config:  # at start and at every reload
            runnable, _ = databases.adapted(relocated(loaded, {API: api}))
            return speed_up(runnable, FAST_FACTOR) if fast else runnable

        _, notes = databases.adapted(config)
        notes = [note for note in (api_moved, exporter_moved) if note] + notes
        config = for_the_demo(config)
        runtime = Runtime(config, path, adjust=for_the_demo)
        with (
            serving(demo_api, api, "the demo API"),
            # Loopback only, as everything here: POST /-/reload reloads the config file.
            serving(create_app(runtime, enable_lifecycle=True), exporter, "the exporter"),
        ):
            print(_instructions(path, config, api, exporter, fast), flush=True)
            print("\n".join([databases.instructions(), *notes]) + "\n", flush=True)
            app = f"{api[0]}:{api[1]}"  # its /metrics: the in-app integration's
            with demo_stack(config, f"{exporter[0]}:{exporter[1]}", (app,)) as (lines, stack):
                faults = demo_faults(api, demo_api.state.faults, databases)
                now = datetime.now(UTC)
                if stack is not None:
                    lines += ["", *fault_lines(config, faults, TIMING, now)]
                else:
                    lines += ["", *fault_switches(config, faults)]
                print("\n".join(lines) + "\n", flush=True)
                print(f"{READY} Ctrl-C (or SIGTERM, SIGHUP) stops everything.", flush=True)
                threading.Event().wait()  # until a stop signal raises
    return 0


@contextlib.contextmanager
def _stop_signals_raise() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise Stopped in the main thread, once: a second signal
    while the servers stop is ignored, so that it cannot cut the cleanup short."""
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise Stopped(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def serving(app: object, address: Address, what: str) -> Iterator[None]:
    """`app` under uvicorn in a thread, listening on `address` until the block ends.

    Not in the main thread: that one waits for the stop signals, which uvicorn would otherwise
    take for itself (and the exporter's SIGHUP, a reload elsewhere, stops the demo).
    """
    server = uvicorn.Server(uvicorn_config(app, *address))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True, name=what)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.02)
    try:
        if not server.started:
            raise ServerUnavailable(f"{what} could not listen on {address[0]}:{address[1]}")
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def _instructions(path: Path, config: Config, api: Address, exporter: Address, fast: bool) -> str:
    api_url = f"http://{api[0]}:{api[1]}"
    exporter_url = f"http://{exporter[0]}:{exporter[1]}"
    timings = (
        f"--fast: probe intervals, escalation times and Alertmanager's group_wait, "
        f"group_interval and repeat_interval are the config's divided by {FAST_FACTOR}."
        if fast
        else f"Timings are the config's (probes every 30s to 5m; demo --fast divides every timing "
        f"by {FAST_FACTOR})."
    )
    return f"""
business_exporter demo: {len(config.targets)} targets from {path}
{timings}

  demo API      {api_url}/health  (stays 200 whatever breaks, as in the real outage)
                {api_url}/_faults   the fault switches that are on; POST /_faults/reset clears them
  exporter      {exporter_url}/            targets, state, last failure reason
                {exporter_url}/metrics     what Prometheus scrapes
                {exporter_url}/probe?target=zebra_admin_access&debug=true   run one now
"""
