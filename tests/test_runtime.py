from __future__ import annotations

from pathlib import Path

from exporter.config import Config, load_config
from exporter.runtime import Runtime

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
