"""The hardened deployment: deploy/web/init.sh, the compose scrape job, the systemd unit."""

from __future__ import annotations

import os
import shutil
import ssl
import stat
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from exporter.cli import _parser
from exporter.demo.compose import EXPORTER_WEB, OUT, SCRAPE_USER
from exporter.demo.stack import get_json, process
from exporter.web.config import load_web_config
from tests.generate.test_bundle import ROOT
from tests.servers import free_port, wait_for
from tests.web.conftest import exporter_config

INIT = ROOT / "deploy" / "web" / "init.sh"
UNIT = ROOT / "deploy" / "systemd" / "business-exporter.service"


def init(directory: Path) -> None:
    """Run deploy/web/init.sh as the compose web-init service does."""
    env = {**os.environ, "PYTHON": sys.executable}
    argv = ["sh", str(INIT), str(directory), "exporter", "localhost"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_init_makes_a_web_config_with_tls_and_basic_auth_and_private_files(
    tmp_path: Path,
) -> None:
    init(tmp_path)
    security = load_web_config(tmp_path / "web.yml")
    assert security.ssl_context is not None
    assert list(security.users) == [SCRAPE_USER]
    for name in ("server.key", "scrape-password", "web.yml"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o400, name
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ca.pem",
        "scrape-password",
        "server.crt",
        "server.key",
        "web.yml",
    ]  # the CA's key is gone: it can sign nothing else


def test_init_keeps_what_is_already_there(tmp_path: Path) -> None:
    (tmp_path / "scrape-password").write_text("my own password")
    init(tmp_path)
    first = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    init(tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == first
    assert first["scrape-password"] == b"my own password"


def test_prometheus_scrapes_the_exporter_as_compose_sets_them_up(tmp_path: Path) -> None:
    """init.sh's files, `serve --web.config.file` on them, and a real Prometheus running the
    compose bundle's scrape job (its paths and address moved here): the target is up."""
    web = tmp_path / "web"
    init(web)
    config = exporter_config(tmp_path, "down=http://127.0.0.1:1/")
    port, prometheus_port = free_port(), free_port()
    serve = [sys.executable, "-m", "exporter", "serve", "--config", str(config)]
    serve += ["--listen", f"127.0.0.1:{port}", "--web.config.file", str(web / "web.yml")]
    binary = shutil.which("prometheus")
    assert binary, "prometheus is installed by `make test` (Debian package prometheus)"
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(_scrape_here(web, port)))
    prometheus = [
        binary,
        f"--config.file={tmp_path / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{prometheus_port}",
    ]
    with (
        process(serve, tmp_path / "exporter.log"),
        process(prometheus, tmp_path / "prometheus.log"),
    ):
        query = "up{job='business_exporter'} == 1"
        url = f"http://127.0.0.1:{prometheus_port}/api/v1/query?" + urllib.parse.urlencode(
            {"query": query}
        )
        wait_for(lambda: _results(url), timeout=90, what="Prometheus to scrape the exporter")
        # and nobody else gets in without the password
        password = (web / "scrape-password").read_text()
        https = f"https://127.0.0.1:{port}/metrics"
        ca = ssl.create_default_context(cafile=web / "ca.pem")
        assert httpx.get(https, verify=ca).status_code == 401
        ok = httpx.get(https, verify=ca, auth=(SCRAPE_USER, password))
        assert "business_exporter_targets 1.0" in ok.text


def _scrape_here(web: Path, port: int) -> dict[str, Any]:
    generated = yaml.safe_load((OUT / "bundle" / "prometheus" / "prometheus.yml").read_text())
    (job,) = generated["scrape_configs"]
    job = yaml.safe_load(yaml.safe_dump(job).replace(EXPORTER_WEB, str(web)))
    job["static_configs"] = [{"targets": [f"127.0.0.1:{port}"]}]
    return {"global": {"scrape_interval": "1s"}, "scrape_configs": [job]}


def _results(url: str) -> list[Any]:
    try:
        results: list[Any] = get_json(url)["data"]["result"]
    except OSError:
        return []
    return results


def _unit() -> dict[str, list[str]]:
    """The [Service] section: each setting's values, continuation lines joined."""
    settings: dict[str, list[str]] = {}
    section = ""
    text = UNIT.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def test_the_systemd_unit_serves_with_a_web_config_and_reloads_by_sighup() -> None:
    unit = _unit()
    (exec_start,) = unit["ExecStart"]
    binary, *argv = exec_start.split()
    assert binary == "/usr/local/bin/business-exporter"
    args = _parser().parse_args(argv)
    assert args.web_config_file == Path("/etc/business-exporter/web/web.yml")
    assert not args.web_enable_lifecycle
    assert unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert unit["User"] == ["business-exporter"]
    assert unit["RestartPreventExitStatus"] == ["2"]
    for setting in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices"):
        assert unit[setting] == ["yes"], setting
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["CapabilityBoundingSet"] == [""]


@pytest.fixture
def installable_unit(tmp_path: Path) -> Path:
    """The unit with ExecStart at this checkout's business-exporter, which systemd checks."""
    binary = Path(sys.executable).parent / "business-exporter"
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/business-exporter", str(binary)))
    return unit


def test_systemd_accepts_the_unit_and_rates_its_exposure_low(installable_unit: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is installed by `make test` (Debian package systemd)"
    verify = subprocess.run(
        [analyze, "verify", str(installable_unit)], capture_output=True, text=True, check=False
    )
    assert verify.returncode == 0, verify.stderr
    # Exposure runs from 0 (locked down) to 10 (unprotected), in tenths for --threshold.
    security = subprocess.run(
        [analyze, "security", "--offline=yes", "--threshold=20", str(installable_unit)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert security.returncode == 0, security.stdout[-2000:]
