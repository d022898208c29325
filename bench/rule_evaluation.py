"""How long a real Prometheus takes to evaluate the generated groups for 1,000 targets.

Starts the demo API, the exporter on a 1,000-target config (bench/generate_time.py's, pointed
at the demo API), and Prometheus on the generated bundle with 5s scrape and evaluation
intervals. Reads `prometheus_rule_group_last_duration_seconds` once all is healthy, then again
after dropping the admin router, when half the targets fail and their alerts fire (annotation
templates run their queries only then). Prints a table; asserts nothing.
Run: .venv/bin/python bench/rule_evaluation.py [TARGETS]
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import uvicorn
import yaml
from generate_time import config_data  # bench/ is on sys.path when a script in it runs
from prometheus_client.parser import text_string_to_metric_families

from exporter.config import parse_config
from exporter.demo.app import create_demo_app
from exporter.generate.bundle import BundleOptions, build, write
from exporter.generate.prometheus import PrometheusOptions

SETTLE = 40.0  # seconds: several scrapes and evaluations, two runs of every target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def process(argv: list[str], log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def durations(base: str) -> dict[str, float]:
    """Each group's last evaluation time, from Prometheus' own /metrics."""
    text = httpx.get(f"{base}/metrics").text
    return {
        sample.labels["rule_group"].split(";")[-1]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "prometheus_rule_group_last_duration_seconds"
        for sample in family.samples
    }


def firing(base: str) -> int:
    alerts = httpx.get(f"{base}/api/v1/alerts").json()["data"]["alerts"]
    return sum(a["state"] == "firing" for a in alerts)


def wait_ready(url: str) -> None:
    for _ in range(300):
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"{url} never became ready")


def main(targets: int) -> None:
    app = create_demo_app()
    api_port, exporter_port, prometheus_port = free_port(), free_port(), free_port()
    api = uvicorn.Server(uvicorn.Config(app, port=api_port, log_level="warning"))
    threading.Thread(target=api.run, daemon=True).start()
    data = config_data(targets)
    for i, target in enumerate(data["targets"]):
        # Half on the admin router, half on users: both answer 401 without a token.
        path = "admin/feature-flags" if i % 2 == 0 else "users"
        url = f"http://127.0.0.1:{api_port}/api/v1/{path}"
        target["http"] = {"url": url, "valid_status_codes": [401]}
        target["interval"] = "10s"  # failing after 20s; evaluation cost does not depend on it
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config = work / "config.yaml"
        config.write_text(yaml.safe_dump(data))
        options = PrometheusOptions(
            (f"127.0.0.1:{exporter_port}",), f"127.0.0.1:{free_port()}", "5s", "5s"
        )
        write(build(parse_config(config.read_text()), BundleOptions(options)), work / "bundle")
        exporter = [sys.executable, "-m", "exporter", "serve", "--config", str(config)]
        prometheus = [
            shutil.which("prometheus") or "prometheus",
            f"--config.file={work / 'bundle/prometheus/prometheus.yml'}",
            f"--storage.tsdb.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
        ]
        base = f"http://127.0.0.1:{prometheus_port}"
        with (
            process([*exporter, "--listen", options.exporters[0]], work / "exporter.log"),
            process(prometheus, work / "prometheus.log"),
        ):
            wait_ready(f"{base}/-/ready")
            time.sleep(SETTLE)
            healthy, healthy_firing = durations(base), firing(base)
            app.state.faults.drop("admin")
            time.sleep(SETTLE)
            failing, failing_firing = durations(base), firing(base)
    api.should_exit = True
    _table(targets, healthy, failing, (healthy_firing, failing_firing))


def _table(
    targets: int, healthy: dict[str, float], failing: dict[str, float], fired: tuple[int, int]
) -> None:
    print(f"{targets} targets; firing alerts: {fired[0]} healthy, {fired[1]} with admin dropped")
    print(f"{'rule group':<45} {'healthy':>10} {'admin down':>11}")
    for group in sorted(healthy):
        print(f"{group:<45} {healthy[group] * 1000:>8.2f}ms {failing.get(group, 0) * 1000:>9.2f}ms")
    total_h, total_f = sum(healthy.values()), sum(failing.values())
    print(f"{'all groups':<45} {total_h * 1000:>8.2f}ms {total_f * 1000:>9.2f}ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
