from __future__ import annotations

import collections
from pathlib import Path

import pytest
import yaml

from exporter.cli import main
from exporter.sharding import Shard
from tests.fresh import in_fresh_process


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
