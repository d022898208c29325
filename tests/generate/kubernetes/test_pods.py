"""The StatefulSet's pods, run as its manifest says: each pod's command with the host name of its
ordinal (a UTS namespace of its own) and its config where the manifest mounts it (here, a copy),
answering its probes and probing its shard, the shards making up all targets. (Not as user
nobody: this machine's Python lives under /root, which nobody cannot read.) And the exporter's
secrets: referenced from the Secret, never written into the kit."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from exporter.cli import main
from exporter.generate.kubernetes.check import load_objects
from exporter.sharding import Shard
from tests.servers import free_port, wait_for

ROOT = Path(__file__).parents[3]
SECRETS = ROOT / "tests" / "testdata" / "kubernetes" / "in-secrets.yaml"
NOBODY = 65534
REPLICAS = 3


def small_config(directory: Path) -> Path:
    """Twelve TCP targets on a port nothing listens on: every run fails fast, and still runs."""
    port = free_port()
    targets = [
        {
            "name": f"target_{i}",
            "severity": "low",
            "context": "ops",
            "service": "svc",
            "tcp": {"host": "127.0.0.1", "port": port},
        }
        for i in range(12)
    ]
    path = directory / "config.yaml"
    path.write_text(
        yaml.safe_dump({"defaults": {"interval": "1s", "timeout": "500ms"}, "targets": targets})
    )
    return path


def statefulset(config: Path, out: Path) -> dict[str, Any]:
    flags = ["--kubernetes", "--replicas", str(REPLICAS)]
    assert main(["generate", "--config", str(config), "--out", str(out), *flags]) == 0
    [found] = [o for o in load_objects(out / "kubernetes") if o["kind"] == "StatefulSet"]
    return found


class Pod:
    """One replica, started from the manifest's container as the kubelet would start it."""

    def __init__(self, manifest: dict[str, Any], ordinal: int, config: Path) -> None:
        container = manifest["spec"]["template"]["spec"]["containers"][0]
        mounted = next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == "config")
        self.port = free_port()
        command = [
            arg.replace(mounted, str(config.parent)).replace(
                f"0.0.0.0:{container['ports'][0]['containerPort']}", f"127.0.0.1:{self.port}"
            )
            for arg in container["command"]
        ]
        assert command[0] == "business-exporter"
        command[0:1] = [sys.executable, "-m", "exporter"]  # the image's entry point, here
        host = f"{manifest['metadata']['name']}-{ordinal}"
        script = 'hostname "$0" && exec "$@"'
        self.probes = {
            kind: container[kind]["httpGet"]["path"] for kind in ("livenessProbe", "readinessProbe")
        }
        self.process = subprocess.Popen(
            ["unshare", "--uts", "sh", "-c", script, host, *command],
            cwd="/",
            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
        )

    def answers(self, path: str) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}{path}").status_code == 200
        except httpx.TransportError:
            return False

    def probed(self) -> set[str]:
        text = httpx.get(f"http://127.0.0.1:{self.port}/metrics").text
        return {
            s.labels["probe"]
            for family in text_string_to_metric_families(text)
            if family.name == "business_probe_last_run_timestamp_seconds"
            for s in family.samples
        }

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def pods(tmp_path: Path) -> Iterator[tuple[list[Pod], set[str]]]:
    config = small_config(tmp_path)
    manifest = statefulset(config, tmp_path / "out")
    names = {t["name"] for t in yaml.safe_load(config.read_text())["targets"]}
    started = [Pod(manifest, ordinal, config) for ordinal in range(manifest["spec"]["replicas"])]
    yield started, names
    for pod in started:
        pod.stop()


def test_each_pod_answers_its_probes_and_probes_the_shard_of_its_ordinal(
    pods: tuple[list[Pod], set[str]],
) -> None:
    started, names = pods
    assert len(started) == REPLICAS
    for ordinal, pod in enumerate(started):
        mine = {name for name in names if Shard(ordinal + 1, REPLICAS).owns(name)}
        _wait_until_it_serves(pod, mine, f"pod {ordinal}")
    shares = [pod.probed() for pod in started]
    assert set().union(*shares) == names
    assert sum(map(len, shares)) == len(names)


def _wait_until_it_serves(pod: Pod, shard: set[str], which: str) -> None:
    for path in pod.probes.values():
        # Three interpreters start at once on a shared machine: give them time.
        wait_for(functools.partial(pod.answers, path), timeout=60, what=f"{which} to answer {path}")
    wait_for(lambda: pod.probed() == shard, what=f"{which} to probe its shard")


def test_the_pods_run_unprivileged_on_a_read_only_root(tmp_path: Path) -> None:
    manifest = statefulset(small_config(tmp_path), tmp_path / "out")
    pod = manifest["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == NOBODY
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert {"requests", "limits"} <= container["resources"].keys()
    assert all(m.get("readOnly") for m in container["volumeMounts"] if m["mountPath"] != "/tmp")
    assert container["command"][-2:] == ["--shard-from-hostname", str(REPLICAS)]


def test_the_exporter_secrets_are_referenced_from_the_secret_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {"API_TOKEN": "token-5f1e9a", "PG_PASSWORD": "password-77c3b0"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    manifest = statefulset(SECRETS, tmp_path)
    for path in (tmp_path / "kubernetes").rglob("*"):
        if path.is_file():
            assert not any(value in path.read_text() for value in values.values()), path
    pod = manifest["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["env"] == [
        {"name": name, "valueFrom": {"secretKeyRef": {"name": "business-exporter", "key": name}}}
        for name in sorted(values)
    ]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}

    def secret_items(directory: str) -> list[dict[str, str]]:
        [source] = volumes[mounts[directory]]["projected"]["sources"]
        assert source["secret"]["name"] == "business-exporter"
        items: list[dict[str, str]] = source["secret"]["items"]
        return items

    assert secret_items("/run/secrets/business") == [
        {"key": "admin_password", "path": "admin_password"},
        {"key": "redis_password", "path": "redis_password"},
    ]
    assert secret_items("/etc/business-exporter/ca") == [{"key": "ca.pem", "path": "ca.pem"}]
