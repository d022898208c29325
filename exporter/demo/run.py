"""`business-exporter demo`: the demo API plus the exporter on the reference config."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from exporter.config import Config, ConfigError, load_config
from exporter.demo import backends
from exporter.demo.app import DEMO_PASSWORD, create_demo_app
from exporter.demo.fast import FAST_FACTOR, speed_up
from exporter.demo.stack import demo_stack
from exporter.runtime import Runtime
from exporter.serve import uvicorn_config
from exporter.server import create_app

API = ("127.0.0.1", 8000)
EXPORTER = ("127.0.0.1", 9117)
REFERENCE = Path(__file__).resolve().parents[2] / "examples" / "marketedge.yaml"


def run_demo(config_path: Path | None = None, fast: bool = False) -> int:
    """Serve the demo API in a thread and the exporter in the foreground until Ctrl-C.

    Prometheus and Alertmanager run too when installed; `fast` divides the probe intervals,
    escalation times and Alertmanager timings by FAST_FACTOR.
    """
    path = config_path or REFERENCE
    # The reference config reads the Zebra admin's password from the environment, as secrets are.
    os.environ.setdefault("ZEBRA_DEMO_PASSWORD", DEMO_PASSWORD)
    backends.set_environment()  # and the demo databases' passwords
    try:
        config = load_config(path)
    except ConfigError as err:
        print(f"{path}: invalid config:\n{err}", file=sys.stderr)
        return 2
    with backends.started() as databases:  # PostgreSQL and Redis, when installed

        def for_the_demo(loaded: Config) -> Config:  # at start and at every reload
            runnable, _ = databases.without_unavailable(loaded)
            return speed_up(runnable, FAST_FACTOR) if fast else runnable

        _, left_out = databases.without_unavailable(config)
        config = for_the_demo(config)
        runtime = Runtime(config, path, adjust=for_the_demo)
        exporter = uvicorn.Server(uvicorn_config(create_app(runtime), *EXPORTER))
        with _in_thread(uvicorn.Server(uvicorn_config(create_demo_app(), *API))) as api_started:
            if not api_started:
                print(
                    f"the demo API could not listen on {API[0]}:{API[1]}: is it in use?",
                    file=sys.stderr,
                )
                return 1
            print(_instructions(path, [t.name for t in config.targets], fast), flush=True)
            print("\n".join([databases.instructions(), *left_out]) + "\n", flush=True)
            with (
                demo_stack(
                    config, f"{EXPORTER[0]}:{EXPORTER[1]}", f"http://{API[0]}:{API[1]}"
                ) as alerting,
                contextlib.suppress(KeyboardInterrupt),  # uvicorn raises Ctrl-C again as it ends
            ):
                print("\n".join(alerting) + "\n", flush=True)
                exporter.run()
    return 0


@contextlib.contextmanager
def _in_thread(server: uvicorn.Server) -> Iterator[bool]:
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.02)
    try:
        yield server.started
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def _instructions(path: Path, names: list[str], fast: bool) -> str:
    api = f"http://{API[0]}:{API[1]}"
    exporter = f"http://{EXPORTER[0]}:{EXPORTER[1]}"
    timings = (
        f"--fast: probe intervals, escalation times and Alertmanager's group_wait, "
        f"group_interval and repeat_interval are the config's divided by {FAST_FACTOR}."
        if fast
        else f"Probes run on the config's intervals (30s to 5m; demo --fast divides them by "
        f"{FAST_FACTOR})."
    )
    return f"""
business_exporter demo: {len(names)} targets from {path}

  demo API      {api}/health  (stays 200 whatever breaks, as in the real outage)
  exporter      {exporter}/            targets, state, last failure reason
                {exporter}/metrics     what Prometheus scrapes
                {exporter}/probe?target=zebra_admin_access&debug=true   run one now

Switch faults on and off in the demo API:
  curl -X POST {api}/_faults/routers/admin/drop       drop the admin router (as a failed import)
  curl -X POST {api}/_faults/routers/admin/restore
  curl -X POST '{api}/_faults/slow?path=/api/v1/users&seconds=6'   make an endpoint slow
  curl -X POST '{api}/_faults/error?path=/api/v1/auth/login'       make an endpoint answer 500
  curl -X POST {api}/_faults/reset                    clear every fault
  curl {api}/_faults                                  show what is switched on

{timings}
A target turns failing after its failure_threshold (watch business_probe_failing, or the /
page). Ctrl-C stops everything.
"""
