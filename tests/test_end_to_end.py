"""The whole spine: `business-exporter serve` as a process, probing the demo API."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporter.config import load_config
from exporter.demo.app import DEMO_PASSWORD, create_demo_app
from tests.servers import free_port, serve_app, wait_for

REFERENCE = Path(__file__).parent.parent / "examples" / "marketedge.yaml"


def fast_reference_config(api: str) -> str:
    """examples/marketedge.yaml against `api`, with intervals short enough for a test."""
    text = REFERENCE.read_text().replace("http://127.0.0.1:8000", api)
    text = re.sub(r"(\binterval:) \w+", r"\1 150ms", text)
    return re.sub(r"(\btimeout:) \w+", r"\1 150ms", text)


class Exporter:
    def __init__(self, config: Path, port: int, *extra: str) -> None:
        self.config, self.base = config, f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "exporter",
                "serve",
                "--config",
                str(config),
                "--listen",
                f"127.0.0.1:{port}",
                *extra,
            ],
            stderr=subprocess.PIPE,
            text=True,
        )

    def sample(self, name: str, **labels: str) -> float | None:
        text = httpx.get(f"{self.base}/metrics").text
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name == name and labels.items() <= s.labels.items():
                    return s.value
        return None

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.base}/-/ready").status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> str:
        self.process.terminate()
        _, stderr = self.process.communicate(timeout=10)
        return stderr


# A start parses the config in a child process: seconds on a busy machine, not a hang.
START_TIMEOUT = 60


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[str, object]]:
    app = create_demo_app()
    with serve_app(app) as base:
        yield base, app.state.faults


@pytest.fixture
def exporter(
    demo: tuple[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Exporter]:
    monkeypatch.setenv("ZEBRA_DEMO_PASSWORD", DEMO_PASSWORD)  # inherited by the exporter
    monkeypatch.setenv("MARKETEDGE_DB_PASSWORD", "demo-password")  # its database targets
    monkeypatch.setenv("MARKETEDGE_REDIS_PASSWORD", "demo-password")
    config = tmp_path / "marketedge.yaml"
    config.write_text(fast_reference_config(demo[0]))
    running = Exporter(config, free_port())
    try:
        wait_for(running.ready, timeout=START_TIMEOUT, what="the exporter to be ready")
        yield running
    finally:
        running.stop()


def test_a_dropped_router_fails_its_targets_after_the_threshold_and_recovers(
    demo: tuple[str, object], exporter: Exporter
) -> None:
    _, faults = demo
    admin = "zebra_admin_access"
    wait_for(lambda: exporter.sample("business_probe_success", probe=admin) == 1)
    faults.drop("admin")  # type: ignore[attr-defined]
    try:
        wait_for(lambda: exporter.sample("business_probe_failing", probe=admin) == 1)
        failures = exporter.sample("business_probe_consecutive_failures", probe=admin)
        assert failures is not None
        assert failures >= 2  # zebra_admin_access: failure_threshold 2
        assert exporter.sample("business_probe_http_status_code", probe=admin) == 404
        assert exporter.sample("business_probe_failing", probe="auth_login_endpoint") == 0
    finally:
        faults.restore("admin")  # type: ignore[attr-defined]
    wait_for(lambda: exporter.sample("business_probe_failing", probe=admin) == 0)
    successes = exporter.sample("business_probe_consecutive_successes", probe=admin)
    assert successes is not None
    assert successes >= 2  # success_threshold 2
    assert exporter.sample("business_probe_runs_total", probe=admin, result="unexpected_status")


def test_sighup_reloads_the_config_file(exporter: Exporter, demo: tuple[str, object]) -> None:
    wait_for(lambda: exporter.sample("business_probe_success", probe="feature_flag_system") == 1)
    text = exporter.config.read_text()
    exporter.config.write_text(text.replace("name: feature_flag_system", "name: feature_flags"))
    exporter.process.send_signal(signal.SIGHUP)
    wait_for(lambda: exporter.sample("business_exporter_config_reloads_total", result="success"))
    assert exporter.sample("business_probe_failing", probe="feature_flag_system") is None
    wait_for(lambda: exporter.sample("business_probe_success", probe="feature_flags") == 1)


def test_serve_refuses_an_invalid_config_and_starts_nothing(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("targets:\n  - name: x\n    severity: urgent\n")
    port = free_port()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "exporter",
            "serve",
            "--config",
            str(config),
            "--listen",
            f"127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "targets[0].severity: must be one of" in done.stderr
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/-/healthy")


def probed(exporter: Exporter) -> set[str]:
    text = httpx.get(f"{exporter.base}/metrics").text
    return {
        s.labels["probe"]
        for family in text_string_to_metric_families(text)
        if family.name == "business_probe_failing"
        for s in family.samples
    }


def test_two_shards_probe_every_target_exactly_once(
    demo: tuple[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ZEBRA_DEMO_PASSWORD", "MARKETEDGE_DB_PASSWORD", "MARKETEDGE_REDIS_PASSWORD"):
        monkeypatch.setenv(name, DEMO_PASSWORD)
    config = tmp_path / "marketedge.yaml"
    config.write_text(fast_reference_config(demo[0]))
    replicas = [Exporter(config, free_port(), "--shard", f"{i}/2") for i in (1, 2)]
    try:
        for replica in replicas:
            wait_for(replica.ready, timeout=START_TIMEOUT, what="a replica to be ready")
        first, second = (probed(r) for r in replicas)
    finally:
        for replica in replicas:
            replica.stop()
    everything = {t.name for t in load_config(config).targets}
    assert first.isdisjoint(second)
    assert first | second == everything
    assert first
    assert second
