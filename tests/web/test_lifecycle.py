"""POST /-/reload only with --web.enable-lifecycle; SIGHUP reloads whatever the flags."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx

from exporter.server import LIFECYCLE_DISABLED
from tests.servers import free_port, wait_for
from tests.web.conftest import exporter, exporter_config

TARGET = "one=http://127.0.0.1:1/"
# A process starts (and reloads: the config is parsed in a child) in seconds on a busy machine.
START = 60


def test_reload_over_http_is_forbidden_by_default_and_says_how_to_enable_it(
    tmp_path: Path,
) -> None:
    config = exporter_config(tmp_path, TARGET)
    with exporter(config) as (base, runtime):
        exporter_config(tmp_path, TARGET, "two=http://127.0.0.1:2/")  # a changed file on disk
        for method in ("POST", "PUT"):
            response = httpx.request(method, f"{base}/-/reload")
            assert response.status_code == 403
            assert response.text == LIFECYCLE_DISABLED
        assert "--web.enable-lifecycle" in LIFECYCLE_DISABLED
        assert sorted(runtime.scheduler.states) == ["one"]
        assert runtime.reloads == {"success": 0, "failure": 0}


def test_reload_over_http_works_with_the_lifecycle_enabled(tmp_path: Path) -> None:
    config = exporter_config(tmp_path, TARGET)
    with exporter(config, enable_lifecycle=True) as (base, runtime):
        exporter_config(tmp_path, TARGET, "two=http://127.0.0.1:2/")
        assert httpx.post(f"{base}/-/reload", timeout=START).status_code == 200
        assert sorted(runtime.scheduler.states) == ["one", "two"]


def test_sighup_reloads_a_served_exporter_without_the_lifecycle_flag(tmp_path: Path) -> None:
    config = exporter_config(tmp_path, TARGET)
    port = free_port()
    argv = [sys.executable, "-m", "exporter", "serve", "--config", str(config)]
    with subprocess.Popen([*argv, "--listen", f"127.0.0.1:{port}"]) as process:
        try:
            metrics = f"http://127.0.0.1:{port}/metrics"
            wait_for(lambda: _get(metrics), START, what="the exporter to serve")
            assert httpx.post(f"http://127.0.0.1:{port}/-/reload").status_code == 403
            exporter_config(tmp_path, TARGET, "two=http://127.0.0.1:2/")
            process.send_signal(signal.SIGHUP)
            wait_for(lambda: "business_exporter_targets 2.0" in _get(metrics), START, "the reload")
            assert 'business_exporter_config_reloads_total{result="success"} 1.0' in _get(metrics)
        finally:
            process.terminate()
            process.wait(timeout=10)


def _get(url: str) -> str:
    try:
        return httpx.get(url).text
    except httpx.TransportError:
        return ""
