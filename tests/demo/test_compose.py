"""docker-compose.yml and what it mounts: generated, not stale, valid, on loopback, wired."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from exporter.config import load_config, parse_config
from exporter.demo import database
from exporter.demo.compose import (
    BUNDLE_DIR,
    CONFIG_FILE,
    EXPORTER_WEB,
    OUT,
    POSTGRES_INIT,
    SCRAPE_USER,
    SHARED,
    SINK,
    compose_config,
    compose_files,
)
from exporter.demo.servers import PostgresServer
from exporter.demo.stack import process
from exporter.generate.bundle import OWNED_DIRS
from exporter.generate.render import HEADER
from exporter.scheduler import run_once
from tests.generate.test_bundle import REFERENCE, ROOT, assert_same_files, read_tree
from tests.servers import free_port, wait_for

SERVICES = {"exporter", "demo-api", "postgres", "redis", "prometheus", "alertmanager", "grafana"}


def test_the_compose_files_are_generated_from_the_reference_config() -> None:
    top, bundle = compose_files(REFERENCE.read_text(encoding="utf-8"))
    assert top == {
        name: (OUT / name).read_text(encoding="utf-8") for name in (CONFIG_FILE, POSTGRES_INIT)
    }, "run `make bundle`"
    assert_same_files(bundle, read_tree(OUT / BUNDLE_DIR, OWNED_DIRS), "run `make bundle`")
    # What compose mounts from the top-level bundle is not repeated under deploy/compose.
    assert not [path for path in bundle if path.startswith(SHARED)]


def test_the_compose_config_is_the_reference_at_the_compose_services() -> None:
    reference = load_config(REFERENCE, offline=True)
    compose = load_config(OUT / CONFIG_FILE, offline=True)
    assert [t.name for t in compose.targets] == [t.name for t in reference.targets]
    assert (compose.contexts, compose.alerts) == (reference.contexts, reference.alerts)
    text = (OUT / CONFIG_FILE).read_text()
    assert "127.0.0.1" not in text
    assert text.count("http://demo-api:8000/") >= 10
    assert "host: postgres\n    port: 5432" in text
    assert "host: redis\n    port: 6379" in text


def test_every_compose_receiver_is_a_webhook_to_the_sink() -> None:
    compose = load_config(OUT / CONFIG_FILE, offline=True)
    reference = load_config(REFERENCE, offline=True)
    assert compose.receivers.keys() == reference.receivers.keys()
    for name, receiver in compose.receivers.items():
        assert receiver.webhook is not None
        assert receiver.webhook.url == f"{SINK}/{name}"
    assert compose.smtp is None


def test_a_target_at_an_address_without_a_compose_service_is_refused() -> None:
    data = {"targets": [{"name": "x", "http": {"url": "http://127.0.0.1:9999/health"}}]}
    with pytest.raises(ValueError, match=r"no compose service for 127\.0\.0\.1:9999"):
        compose_config(data)


def test_postgres_is_initialised_with_the_demo_schema_and_the_monitoring_login() -> None:
    script = (OUT / POSTGRES_INIT).read_text()
    assert script.startswith("#!/bin/sh\n" + HEADER)
    assert database.SCHEMA.strip() in script
    login = f"CREATE ROLE {database.MONITOR_USER} LOGIN IN ROLE {database.APP_ROLE}"
    assert login in script
    assert '-v password="$MARKETEDGE_DB_PASSWORD"' in script


def test_the_init_script_sets_up_what_the_compose_database_targets_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Run as the postgres image would, on a fresh cluster; then the compose config's
    PostgreSQL targets, pointed at it, succeed: login, RLS forced, tenants isolated."""
    password = "compose-test-password"
    with PostgresServer(free_port()) as server:
        env = {
            **os.environ,
            "PATH": f"{server.bin}:{os.environ['PATH']}",
            "PGHOST": str(server.directory),
            "PGPORT": str(server.port),
            "POSTGRES_USER": "postgres",
            "MARKETEDGE_DB_PASSWORD": password,
        }
        done = subprocess.run(
            ["sh", str(OUT / POSTGRES_INIT)], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        data = yaml.safe_load((OUT / CONFIG_FILE).read_text())
        targets = [t for t in data["targets"] if "postgres" in t]
        assert {t["name"] for t in targets} >= {"database_connectivity", "tenant_isolation"}
        for target in targets:
            _standalone(target)
            target["postgres"] |= {"host": server.host, "port": server.port}
        monkeypatch.setenv("MARKETEDGE_DB_PASSWORD", password)
        config = parse_config(yaml.safe_dump({"targets": targets}))
        for target in config.targets:
            result, _ = asyncio.run(run_once(target))
            assert result.success, f"{target.name}: {result.reason}: {result.detail}"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """`docker-compose config`: the file validated and resolved, with no Docker engine."""
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is not on PATH: `make system-deps` installs the Debian package"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKETEDGE_", "POSTGRES_"))}
    done = subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    resolved: dict[str, Any] = yaml.safe_load(done.stdout)
    return resolved


def test_docker_compose_validates_with_every_service(compose: dict[str, Any]) -> None:
    assert SERVICES | {"sink", "web-init"} == compose["services"].keys()
    built = {name for name, s in compose["services"].items() if "build" in s}
    assert built == {"exporter", "demo-api", "sink", "web-init"}
    context = Path(compose["services"]["exporter"]["build"]["context"])
    assert (context / "Dockerfile").is_file()


def _ports(service: dict[str, Any]) -> list[str]:
    """Published ports as HOST_IP:PUBLISHED:TARGET, whichever syntax compose printed."""
    return [
        p if isinstance(p, str) else f"{p.get('host_ip', '')}:{p['published']}:{p['target']}"
        for p in service.get("ports", [])
    ]


def test_every_published_port_is_bound_to_loopback(compose: dict[str, Any]) -> None:
    published = {name: _ports(s) for name, s in compose["services"].items() if "ports" in s}
    assert published.keys() == SERVICES - {"postgres", "redis"}
    for name, ports in published.items():
        for port in ports:
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port}"


def _mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host path of each bind mount."""
    return {target: Path(source) for target, source in _all_mounts(service) if "/" in source}


def _volumes(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> name of each named volume."""
    return {target: source for target, source in _all_mounts(service) if "/" not in source}


def _all_mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume["source"], volume["target"]
        mounts.append((target, source))
    return mounts


def test_every_mounted_file_exists(compose: dict[str, Any]) -> None:
    mounts = [m for s in compose["services"].values() for m in _mounts(s).values()]
    assert len(mounts) >= 8
    for path in mounts:
        assert path.is_relative_to(ROOT), path
        assert path.exists(), f"{path.relative_to(ROOT)} is mounted but does not exist"


def test_the_services_find_each_other(compose: dict[str, Any]) -> None:
    services = compose["services"]
    prometheus = _mounts(services["prometheus"])
    scrape = yaml.safe_load((prometheus["/bundle/prometheus"] / "prometheus.yml").read_text())
    assert scrape["scrape_configs"][0]["static_configs"][0]["targets"] == ["exporter:9117"]
    assert "0.0.0.0:9117" in services["exporter"]["command"]
    alertmanagers = scrape["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert alertmanagers == ["alertmanager:9093"]
    assert prometheus["/bundle/rules"] == ROOT / "rules"
    config = _mounts(services["exporter"])["/etc/business-exporter/config.yaml"]
    assert config == OUT / CONFIG_FILE
    assert parse_config(config.read_text(), offline=True).targets
    grafana = _mounts(services["grafana"])
    provisioning = Path("/etc/grafana/provisioning")
    source = yaml.safe_load(
        (grafana[str(provisioning / "datasources")] / "prometheus.yml").read_text()
    )
    assert urlsplit(source["datasources"][0]["url"]).netloc == "prometheus:9090"
    providers = grafana[str(provisioning / "dashboards")] / "business-exporter.yml"
    path = yaml.safe_load(providers.read_text())["providers"][0]["options"]["path"]
    assert grafana[path] == ROOT / "grafana" / "dashboards"
    assert '("0.0.0.0", 9000)' in services["sink"]["command"][-1]
    assert urlsplit(SINK).netloc == "sink:9000"


def _as_mounted(service: dict[str, Any], root: Path) -> None:
    """Copy what compose mounts into `service` under `root`, at the paths the container sees."""
    for target, source in _mounts(service).items():
        copy = root / target.lstrip("/")
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, copy)
        else:
            shutil.copy(source, copy)


def test_prometheus_and_alertmanager_accept_their_configs_as_mounted(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    services = compose["services"]
    for name in ("prometheus", "alertmanager"):
        _as_mounted(services[name], tmp_path)
    tools = {name: shutil.which(name) for name in ("promtool", "amtool")}
    assert all(tools.values()), f"missing {tools}: `make system-deps` installs them"
    for argv in (
        [tools["promtool"], "check", "config", f"{tmp_path}/bundle/prometheus/prometheus.yml"],
        [tools["amtool"], "check-config", f"{tmp_path}/bundle/alertmanager/alertmanager.yml"],
    ):
        done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    # The rules came with the mounts: Prometheus would load every one of them.
    assert len(list((tmp_path / "bundle" / "rules").glob("*.rules.yml"))) >= 5


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_the_compose_redis_lets_the_session_probe_in(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    """redis-server with the compose command's user and ACL: the redis target succeeds."""
    command = compose["services"]["redis"]["command"]
    binary = shutil.which(command[0])
    assert binary, "redis-server is not on PATH: `make system-deps` installs the Debian package"
    port = free_port()
    argv = [
        binary,
        *command[1:],
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(tmp_path),
    ]
    with process(argv, tmp_path / "redis.log"):
        wait_for(lambda: _accepts(port), what="redis-server")
        data = yaml.safe_load((OUT / CONFIG_FILE).read_text())
        (target,) = [t for t in data["targets"] if "redis" in t]
        _standalone(target)
        target["redis"] |= {"host": "127.0.0.1", "port": port}
        # The password docker-compose.yml gives both when MARKETEDGE_REDIS_PASSWORD is unset.
        password = compose["services"]["exporter"]["environment"]["MARKETEDGE_REDIS_PASSWORD"]
        target["redis"]["password"] = {"file": str(_file(tmp_path / "password", password))}
        (parsed,) = parse_config(yaml.safe_dump({"targets": [target]})).targets
        result, _ = asyncio.run(run_once(parsed))
        assert result.success, f"{result.reason}: {result.detail}"


def _standalone(target: dict[str, Any]) -> None:
    """A target of the compose config made to load alone: without its alert (and the severity
    it takes from it) and what it depends on."""
    target.pop("alert", None)
    target.pop("depends_on", None)
    target.setdefault("severity", "critical")


def _file(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_the_exporter_serves_https_with_basic_auth_and_no_lifecycle(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    command = services["exporter"]["command"]
    web_config = command[command.index("--web.config.file") + 1]
    assert "--web.enable-lifecycle" not in command
    assert Path(web_config).parent == Path("/etc/business-exporter/web")
    assert _volumes(services["exporter"]) == {"/etc/business-exporter/web": "exporter-web"}
    assert services["exporter"]["depends_on"]["web-init"] == {
        "condition": "service_completed_successfully"
    }
    # web-init writes the volume the exporter and Prometheus read, with deploy/web/init.sh.
    init = services["web-init"]
    (init_dir,) = [t for t, name in _volumes(init).items() if name == "exporter-web"]
    assert init["command"][:3] == ["sh", next(iter(_mounts(init))), init_dir]
    assert _mounts(init)[init["command"][1]] == ROOT / "deploy" / "web" / "init.sh"
    assert _volumes(services["prometheus"]) == {EXPORTER_WEB: "exporter-web"}


def test_prometheus_scrapes_the_exporter_with_the_files_web_init_makes(
    compose: dict[str, Any],
) -> None:
    prometheus = _mounts(compose["services"]["prometheus"])
    scrape = yaml.safe_load((prometheus["/bundle/prometheus"] / "prometheus.yml").read_text())
    job = scrape["scrape_configs"][0]
    assert job["scheme"] == "https"
    assert job["tls_config"] == {"ca_file": f"{EXPORTER_WEB}/ca.pem"}
    assert job["basic_auth"] == {
        "username": SCRAPE_USER,
        "password_file": f"{EXPORTER_WEB}/scrape-password",
    }
    # tests/web/test_deploy.py runs deploy/web/init.sh and a real Prometheus on this job.
