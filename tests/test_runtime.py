from __future__ import annotations

from pathlib import Path

import pytest

from exporter.config import Config, Target, load_config
from exporter.config.inputs import load_with_inputs
from exporter.config.limits import DEFAULT_LIMITS
from exporter.config.parsed import PickledTarget
from exporter.runtime import Runtime
from exporter.sharding import Shard

TARGET = """
  - name: {name}
    severity: low
    context: ops
    service: api
    interval: 1h
    http: {{url: "http://127.0.0.1:1/"}}
"""


def without_b(config: Config) -> Config:
    return config.model_copy(update={"targets": [t for t in config.targets if t.name != "b"]})


async def test_a_reload_adjusts_the_new_config_as_the_first_one_was(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("targets:" + TARGET.format(name="a") + TARGET.format(name="b"))
    runtime = Runtime(without_b(load_config(path)), path, adjust=without_b)
    runtime.start()
    try:
        path.write_text(path.read_text() + TARGET.format(name="c"))
        assert await runtime.reload() is None
        assert sorted(runtime.scheduler.states) == ["a", "c"]
        assert runtime.config.targets == []  # they run as plans
    finally:
        await runtime.stop()


async def test_probe_runs_another_shards_target_as_its_config_says_now(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    names = [f"t{i}" for i in range(8)]
    path.write_text("targets:" + "".join(TARGET.format(name=n) for n in names))
    shard = Shard(1, 2)
    other = next(n for n in names if not shard.owns(n))
    runtime = Runtime(load_config(path), path, shard=shard)
    runtime.start()
    try:
        assert other not in runtime.scheduler.states
        plan = runtime.plan(other)
        assert plan is not None
        assert (plan.name, plan.interval) == (other, 3600.0)
        assert runtime.plan(other) is plan  # compiled once while the config holds
        result, _ = await runtime.on_demand.run(plan)
        assert result.reason == "connect_error"
        path.write_text(path.read_text().replace("interval: 1h", "interval: 2h"))
        assert await runtime.reload() is None
        again = runtime.plan(other)
        assert again is not None
        assert again.interval == 7200.0
        assert runtime.plan("nothing") is None
    finally:
        await runtime.stop()


async def test_a_reload_unpickles_only_the_targets_whose_config_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("targets:" + "".join(TARGET.format(name=n) for n in ("a", "b", "c")))
    loaded, inputs = load_with_inputs(path, DEFAULT_LIMITS, in_process_fallback=False)
    runtime = Runtime(loaded, path, max_concurrency=10, inputs=inputs)
    runtime.start()
    assert loaded.targets == ()  # compiled: whoever handed them over need not keep them
    unpickled: list[str] = []
    load = PickledTarget.load

    def counted(self: PickledTarget) -> Target:
        unpickled.append(self.name)
        return load(self)

    monkeypatch.setattr(PickledTarget, "load", counted)
    try:
        states = dict(runtime.scheduler.states)
        path.write_text(path.read_text() + "# edited: parsed again, no target changed\n")
        assert await runtime.reload() is None
        assert unpickled == []
        assert runtime.scheduler.states == states
        assert all(runtime.scheduler.states[n].plan is states[n].plan for n in states)
        path.write_text(
            path.read_text().replace("name: b\n    severity: low", "name: b\n    severity: high")
        )
        assert await runtime.reload() is None
        assert unpickled == ["b"]
        assert runtime.scheduler.states["b"].plan.about.severity == "high"
        assert runtime.scheduler.states["a"].plan is states["a"].plan
    finally:
        await runtime.stop()
