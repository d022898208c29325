from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from exporter.cli import main
from exporter.sharding import Shard, owner
from tests.fresh import in_fresh_process
from tests.servers import free_port, wait_for


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_every_name_belongs_to_exactly_one_shard(count: int) -> None:
    shards = [Shard(i, count) for i in range(1, count + 1)]
    names = [f"tenant{i}_login" for i in range(3000)]
    owners = [[s for s in shards if s.owns(name)] for name in names]
    assert all(len(o) == 1 for o in owners)
    sizes = collections.Counter(o[0].index for o in owners)
    assert len(sizes) == count
    assert max(sizes.values()) < 1.15 * len(names) / count


def test_a_name_stays_in_its_shard() -> None:
    """Replicas agree on ownership without talking: every process computes the same owner."""
    names = [f"tenant{i}_login" for i in range(50)]
    here = [[Shard(i, 3).owns(name) for i in (1, 2, 3)] for name in names]
    for seed in (1, 2):
        there = in_fresh_process(
            "from exporter.sharding import Shard",
            f"[[Shard(i, 3).owns(n) for i in (1, 2, 3)] for n in {names!r}]",
            seed,
        )
        assert there == here


@pytest.mark.parametrize(
    ("text", "message"),
    [("3", "must be I/N"), ("0/2", "from 1 to N"), ("3/2", "from 1 to N"), ("a/b", "must be I/N")],
)
def test_a_bad_shard_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Shard.parse(text)


def test_serve_refuses_a_bad_shard_before_starting(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--config", "unused.yaml", "--shard", "3/2"])
    assert exited.value.code == 2
    assert "I must be from 1 to N" in capsys.readouterr().err


def test_the_generated_prometheus_config_scrapes_every_replica(tmp_path: Path) -> None:
    config = Path(__file__).parent / "testdata" / "config" / "valid-minimal.yaml"
    replicas = ["exporter-1:9117", "exporter-2:9117"]
    flags = [arg for replica in replicas for arg in ("--exporter", replica)]
    assert main(["generate", "--config", str(config), "--out", str(tmp_path), *flags]) == 0
    prometheus = yaml.safe_load((tmp_path / "prometheus" / "prometheus.yml").read_text())
    [job] = [j for j in prometheus["scrape_configs"] if j["job_name"] == "business_exporter"]
    assert job["static_configs"] == [{"targets": replicas}]


NAMES = [f"tenant{i}_login" for i in range(4000)]


@pytest.mark.parametrize("count", [2, 3, 4, 8])
def test_one_more_replica_moves_about_one_in_n_plus_one_and_only_to_it(count: int) -> None:
    moved = [n for n in NAMES if owner(n, count) != owner(n, count + 1)]
    assert all(owner(n, count + 1) == count + 1 for n in moved)
    assert abs(len(moved) / len(NAMES) - 1 / (count + 1)) < 0.025


def test_one_replica_less_moves_only_the_targets_of_the_last_one() -> None:
    moved = [n for n in NAMES if owner(n, 4) != owner(n, 3)]
    assert moved == [n for n in NAMES if owner(n, 4) == 4]


@pytest.mark.parametrize(
    ("hostname", "count", "shard"),
    [("business-exporter-0", 3, Shard(1, 3)), ("exporter-a-2", 3, Shard(3, 3))],
)
def test_a_statefulset_pod_takes_the_shard_of_its_ordinal(
    hostname: str, count: int, shard: Shard
) -> None:
    assert Shard.from_hostname(hostname, count) == shard


@pytest.mark.parametrize(
    ("hostname", "message"),
    [
        ("business-exporter-3", "pod ordinal 3 .* is not below the shard count 3"),
        ("laptop", "does not end in a StatefulSet pod ordinal"),
    ],
)
def test_a_host_name_without_a_fitting_ordinal_is_refused(hostname: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Shard.from_hostname(hostname, 3)


def test_serve_takes_its_shard_from_the_pod_host_name(tmp_path: Path) -> None:
    """The StatefulSet's entrypoint: a host name of its own (a UTS namespace) as a pod has."""
    targets = [f"target_{i}" for i in range(12)]
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "defaults": {"interval": "1s", "timeout": "500ms"},
                "targets": [
                    {
                        "name": name,
                        "severity": "low",
                        "context": "ops",
                        "service": "svc",
                        "tcp": {"host": "127.0.0.1", "port": closed_port()},
                    }
                    for name in targets
                ],
            }
        )
    )
    port = free_port()
    serve = [sys.executable, "-m", "exporter", "serve", "--config", str(config)]
    serve += ["--listen", f"127.0.0.1:{port}", "--shard-from-hostname", "2"]
    script = 'hostname "$0" && exec "$@"'
    process = subprocess.Popen(
        ["unshare", "--uts", "sh", "-c", script, "business-exporter-1", *serve]
    )
    try:
        mine = {n for n in targets if Shard(2, 2).owns(n)}
        # An interpreter and its config parser start first: slow on a loaded machine.
        wait_for(lambda: probed(port) == mine, timeout=60, what="the second shard's targets to run")
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert 0 < len(mine) < len(targets)


def test_serve_refuses_a_pod_ordinal_beyond_the_shard_count() -> None:
    serve = [sys.executable, "-m", "exporter", "serve", "--config", "unused.yaml"]
    serve += ["--shard-from-hostname", "2"]
    script = 'hostname "$0" && exec "$@"'
    done = subprocess.run(
        ["unshare", "--uts", "sh", "-c", script, "business-exporter-2", *serve],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "pod ordinal 2 (business-exporter-2) is not below the shard count 2" in done.stderr


def closed_port() -> int:
    return free_port()  # nothing listens on it: every run fails fast, and still runs


def probed(port: int) -> set[str]:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    except httpx.TransportError:
        return set()
    return {
        s.labels["probe"]
        for family in text_string_to_metric_families(text)
        if family.name == "business_probe_last_run_timestamp_seconds"
        for s in family.samples
    }
