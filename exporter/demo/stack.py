"""Prometheus and Alertmanager on a freshly generated bundle, run as children of this process.

The demo, the end-to-end tests and the time-to-detection bench share this: generate the bundle of
a config into a directory, start both servers on loopback ports with their data in it, wait until
they are ready, and stop them (SIGTERM, then wait) on the way out.

    options = StackOptions(exporter="127.0.0.1:9117", notify_to=sink.url)
    with started_stack(config, Path(tmp), options) as stack:
        print(stack.prometheus_url, stack.alertmanager_url)
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exporter.config import Config
from exporter.demo import held
from exporter.demo.fast import DEMO_INTERVAL
from exporter.demo.notifications import NotificationPrinter
from exporter.demo.ports import free_port as free_port  # the tests and benches take it from here
from exporter.demo.ports import usual_or_free
from exporter.demo.servers import ServerUnavailable
from exporter.demo.sink import WebhookSink
from exporter.generate.bundle import BundleOptions, build, write
from exporter.generate.prometheus import PrometheusOptions

PROMETHEUS = "prometheus"
ALERTMANAGER = "prometheus-alertmanager"  # Debian's name; there is no `alertmanager` command
PROMETHEUS_CONFIG = "prometheus/prometheus.yml"
ALERTMANAGER_CONFIG = "alertmanager/alertmanager.yml"
_READY_TIMEOUT = 30.0
DEMO_PORTS = (("127.0.0.1", 9090), ("127.0.0.1", 9093))  # the usual ones, when free
_STOP_TIMEOUT = 10.0


def missing_binaries() -> list[str]:
    """The stack's binaries that are not on PATH, with the Debian package that has them."""
    names = (PROMETHEUS, ALERTMANAGER)
    return [f"{name} (Debian package {name})" for name in names if not shutil.which(name)]


@dataclass(frozen=True, slots=True)
class StackOptions:
    """Where the exporter listens, how often Prometheus looks, and where notifications go."""

    exporter: str
    scrape_interval: str = "5s"
    evaluation_interval: str = "5s"
    # Every receiver becomes a webhook to <notify_to>/<receiver name> (generate --notify-to).
    notify_to: str | None = None
    prometheus_port: int = 0  # 0: any free port
    alertmanager_port: int = 0
    # HOST:PORT of apps running the in-app integration, scraped for the app rules (--app).
    apps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Stack:
    """A running Prometheus and Alertmanager, and the directory with their bundle and data."""

    directory: Path
    prometheus_url: str
    alertmanager_url: str

    @property
    def bundle(self) -> Path:
        return self.directory / "bundle"

    def prometheus_alerts(self) -> list[dict[str, Any]]:
        """Prometheus' pending and firing alerts."""
        data = get_json(f"{self.prometheus_url}/api/v1/alerts")["data"]
        alerts: list[dict[str, Any]] = data["alerts"]
        return alerts

    def alerts_reach_alertmanager(self) -> bool:
        """True once Prometheus has discovered its Alertmanager and sends alerts to it."""
        url = f"{self.prometheus_url}/api/v1/alertmanagers"
        return bool(get_json(url)["data"]["activeAlertmanagers"])

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The result of an instant query: a list of {metric, value}."""
        url = f"{self.prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        result: list[dict[str, Any]] = get_json(url)["data"]["result"]
        return result

    def alertmanager_alerts(self) -> list[dict[str, Any]]:
        """Alertmanager's alerts that are not resolved, with their status (inhibited or not)."""
        alerts: list[dict[str, Any]] = get_json(f"{self.alertmanager_url}/api/v2/alerts")
        return alerts


@contextlib.contextmanager
def started_stack(config: Config, directory: Path, options: StackOptions) -> Iterator[Stack]:
    """Generate `config`'s bundle into `directory`/bundle; run Prometheus and Alertmanager on it.

    Raises ServerUnavailable when a binary is missing or a server would not start.
    """
    binaries = [shutil.which(name) for name in (PROMETHEUS, ALERTMANAGER)]
    if None in binaries:
        raise ServerUnavailable(f"not on PATH: {', '.join(missing_binaries())}")
    prometheus, alertmanager = (str(b) for b in binaries)
    ports = [options.prometheus_port or free_port(), options.alertmanager_port or free_port()]
    prometheus_address, alertmanager_address = (f"127.0.0.1:{port}" for port in ports)
    bundle = directory / "bundle"
    write(build(config, _bundle_options(options, alertmanager_address)), bundle)
    with contextlib.ExitStack() as stack:
        stack.enter_context(
            _server(
                [
                    alertmanager,
                    f"--config.file={bundle / ALERTMANAGER_CONFIG}",
                    f"--storage.path={directory / 'alertmanager-data'}",
                    f"--web.listen-address={alertmanager_address}",
                    # Links in notifications: the machine's host name would be a guess.
                    f"--web.external-url=http://{alertmanager_address}",
                    "--cluster.listen-address=",  # no gossip port on 0.0.0.0:9094
                ],
                directory / "alertmanager.log",
                f"http://{alertmanager_address}",
            )
        )
        stack.enter_context(
            _server(
                [
                    prometheus,
                    f"--config.file={bundle / PROMETHEUS_CONFIG}",
                    f"--storage.tsdb.path={directory / 'prometheus-data'}",
                    f"--web.listen-address={prometheus_address}",
                    f"--web.external-url=http://{prometheus_address}",
                ],
                directory / "prometheus.log",
                f"http://{prometheus_address}",
            )
        )
        running = Stack(directory, f"http://{prometheus_address}", f"http://{alertmanager_address}")
        # Prometheus hands discovered targets over every 5 s: an alert that fires before it
        # knows its Alertmanager is dropped, and resent only a minute later.
        if not wait_until(running.alerts_reach_alertmanager, _READY_TIMEOUT):
            raise ServerUnavailable(f"Prometheus did not find Alertmanager {alertmanager_address}")
        yield running


def _bundle_options(options: StackOptions, alertmanager: str) -> BundleOptions:
    prometheus = PrometheusOptions(
        exporters=(options.exporter,),
        alertmanager=alertmanager,
        scrape_interval=options.scrape_interval,
        evaluation_interval=options.evaluation_interval,
        apps=options.apps,
    )
    return BundleOptions(prometheus, notify_to=options.notify_to or "")


@contextlib.contextmanager
def exporter_process(config_path: Path, address: str, log: Path) -> Iterator[str]:
    """`python -m exporter serve` on `address` until the block ends; yields its base URL."""
    argv = [sys.executable, "-m", "exporter", "serve", "--config", str(config_path)]
    with _server([*argv, "--listen", address], log, f"http://{address}"):
        yield f"http://{address}"


@contextlib.contextmanager
def _server(argv: Sequence[str], log: Path, base: str) -> Iterator[subprocess.Popen[bytes]]:
    """A process() that answers 200 on <base>/-/ready before the block starts."""
    with process(argv, log) as running:
        ready = wait_until(
            lambda: answers(f"{base}/-/ready") or running.poll() is not None, _READY_TIMEOUT
        )
        if running.poll() is not None or not ready:
            why = f"exited with status {running.returncode}" if ready else "is not ready"
            raise ServerUnavailable(f"{Path(argv[0]).name} {why}:\n{tail(log)}")
        yield running


@contextlib.contextmanager
def process(argv: Sequence[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run argv with its output in `log`; terminate it and wait for it on the way out."""
    with log.open("wb") as out:
        running = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in a terminal is for us: we stop it, in order
        )
        try:
            yield running
        finally:
            running.terminate()
            try:
                running.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                running.kill()
                running.wait()


def answers(url: str) -> bool:
    """True when a GET of `url` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def wait_until(condition: Callable[[], object], timeout: float) -> bool:
    """Poll `condition` every 20 ms until it is truthy (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextlib.contextmanager
def demo_stack(
    config: Config, exporter: str, apps: tuple[str, ...] = ()
) -> Iterator[tuple[list[str], Stack | None]]:
    """Prometheus, Alertmanager and a webhook sink printing every notification, when installed,
    and a watcher saying when Alertmanager holds an alert back (held.py). Prometheus scrapes
    `exporter`, and `apps` for the in-app integration's metrics.

    Yields the lines of the demo's banner (the URLs, or what is left out and why) and the
    running stack, or None.
    """
    missing = missing_binaries()
    if missing:
        yield (
            [
                "  Prometheus and Alertmanager are left out, so no alert fires and nothing is",
                f"  notified: not on PATH: {', '.join(missing)}. `make system-deps` installs them.",
            ],
            None,
        )
        return
    with (
        WebhookSink(on_post=NotificationPrinter()) as sink,
        tempfile.TemporaryDirectory(prefix="business-exporter-demo-") as directory,
        contextlib.ExitStack() as running,
    ):
        (_, prometheus), (_, alertmanager) = (usual_or_free(p, "")[0] for p in DEMO_PORTS)
        options = StackOptions(
            exporter, DEMO_INTERVAL, DEMO_INTERVAL, sink.url, prometheus, alertmanager, apps
        )
        try:
            stack = running.enter_context(started_stack(config, Path(directory), options))
        except ServerUnavailable as err:
            yield [f"  Prometheus and Alertmanager are left out: {err}"], None
            return
        running.callback(held.started(held.HeldAlerts(config), stack.alertmanager_alerts))
        yield _banner(stack, sink, apps), stack


def _banner(stack: Stack, sink: WebhookSink, apps: tuple[str, ...]) -> list[str]:
    # Debian's packages have no web UI: Prometheus' classic pages and Alertmanager's API.
    scraped = "the exporter" + "".join(f" and {app}/metrics" for app in apps)
    return [
        f"  Prometheus    {stack.prometheus_url}/classic/alerts   (scrapes {scraped} and "
        f"evaluates every {DEMO_INTERVAL})",
        f"  Alertmanager  {stack.alertmanager_url}/api/v2/alerts",
        f"  bundle        {stack.bundle}   (generated for this run, removed at exit)",
        f"  notifications every receiver is a webhook to {sink.url}/<receiver>; a line per",
        "                alert notified, once: time, status, alert, service, tenant, probe,",
        "                severity, escalation level -> receivers (not the Watchdog's pings).",
        "                HELD, INHIBITED: Alertmanager holds an alert back, and why.",
    ]
