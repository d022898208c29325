from __future__ import annotations

import gc
from pathlib import Path

import pytest

from exporter import heap
from exporter.config import Config, load_config, parse_config
from exporter.heap import HeapSettler, release_free_memory, settle_delay
from exporter.runtime import Runtime
from tests.servers import async_wait_for

TARGET = """
  - name: {name}
    severity: low
    context: ops
    service: api
    interval: {interval}
    timeout: 50ms
    http: {{url: "http://127.0.0.1:1/"}}
"""


def config_text(*intervals: str) -> str:
    targets = (TARGET.format(name=f"t{i}", interval=v) for i, v in enumerate(intervals))
    return "targets:" + "".join(targets)


@pytest.mark.parametrize(
    ("intervals", "delay"), [((), 1.0), (("10s",), 11.0), (("10s", "5m"), 61.0)]
)
def test_the_heap_settles_after_the_longest_interval_or_a_minute(
    intervals: tuple[str, ...], delay: float
) -> None:
    # No targets: a shard may be given none, though a config must list some.
    config = parse_config(config_text(*intervals)) if intervals else Config()
    assert settle_delay(t.interval for t in config.targets) == delay


async def test_the_settled_heap_is_frozen_its_free_memory_released_and_thawed_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    released: list[bool] = []

    def release() -> bool:
        released.append(True)
        return True

    monkeypatch.setattr(heap, "release_free_memory", release)
    settler = HeapSettler()
    settler.settle_later(0.01)
    await async_wait_for(lambda: gc.get_freeze_count() > 0, what="the heap frozen")
    await async_wait_for(lambda: released == [True], what="free memory released")
    settler.thaw()
    assert gc.get_freeze_count() == 0


async def test_a_reload_thaws_the_heap_and_settles_it_again(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(config_text("100ms"))
    runtime = Runtime(load_config(path), path)
    runtime.start()
    try:
        await async_wait_for(lambda: gc.get_freeze_count() > 0, what="the heap frozen")
        path.write_text(config_text("100ms", "200ms"))
        assert await runtime.reload() is None
        assert gc.get_freeze_count() == 0  # the old config can be collected
        await async_wait_for(lambda: gc.get_freeze_count() > 0, what="frozen again")
    finally:
        await runtime.stop()
    assert gc.get_freeze_count() == 0


def resident_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_free_memory_between_survivors_goes_back_to_the_system() -> None:
    # 20 KB blocks come from glibc's heap; a survivor every tenth block keeps the heap from
    # shrinking by itself, as the config's objects do after a parse.
    blocks = [bytes(20_000) for _ in range(3000)]
    survivors = blocks[::10]
    del blocks
    before = resident_mib()
    assert release_free_memory()
    assert before - resident_mib() > 20
    assert len(survivors) == 300
