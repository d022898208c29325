"""/probe on a real exporter: one run per target however many ask, under the scheduler's limit,
and 429 with Retry-After beyond --max-pending-probes."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from exporter.plan import compile_plan
from exporter.scheduler import Scheduler
from tests.servers import async_wait_for, hung_server
from tests.test_scheduler import config, target
from tests.web.conftest import exporter, exporter_config


@pytest.fixture
def hung() -> Iterator[tuple[str, list[socket.socket]]]:
    """A target that accepts and never answers; the list holds one socket per connection."""
    with hung_server() as server:
        yield server


async def _probe_all(base: str, paths: list[str]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        return await asyncio.gather(*(client.get(path) for path in paths))


async def _get(base: str, path: str) -> str:
    async with httpx.AsyncClient(base_url=base) as client:
        return (await client.get(path)).text


def _metric(text: str, name: str) -> float:
    (line,) = [line for line in text.splitlines() if line.startswith(name + " ")]
    return float(line.split()[-1])


async def test_concurrent_requests_for_one_target_share_one_run(
    hung: tuple[str, list[socket.socket]], tmp_path: Path
) -> None:
    url, accepted = hung
    with exporter(exporter_config(tmp_path, f"hung={url}/")) as (base, runtime):
        flood = asyncio.ensure_future(_probe_all(base, ["/probe?target=hung"] * 20))
        await async_wait_for(lambda: runtime.on_demand.requests_in_flight == 20, "20 requests")
        assert len(accepted) == 1
        assert runtime.on_demand.pending == 1
        responses = await flood
    assert {r.status_code for r in responses} == {200}
    assert all('business_probe_runs_total{context="security"' in r.text for r in responses)
    assert all('result="timeout"' in r.text for r in responses)
    assert len(accepted) == 1


async def test_a_debug_request_gets_its_own_traced_run(
    hung: tuple[str, list[socket.socket]], tmp_path: Path
) -> None:
    url, accepted = hung
    with exporter(exporter_config(tmp_path, f"hung={url}/")) as (base, runtime):
        paths = ["/probe?target=hung&debug=true"] * 3 + ["/probe?target=hung"] * 3
        responses = await _probe_all(base, paths)
        assert runtime.on_demand.pending == 0
    assert len(accepted) == 4  # three traced runs and one shared by the rest
    assert all("failure: timeout" in r.text for r in responses[:3])


async def test_probe_runs_take_slots_of_the_concurrency_limit(
    hung: tuple[str, list[socket.socket]], tmp_path: Path
) -> None:
    url, accepted = hung
    config = exporter_config(tmp_path, *(f"hung{i}={url}/" for i in range(4)))
    with exporter(config, max_concurrency=2) as (base, runtime):
        flood = asyncio.ensure_future(
            _probe_all(base, [f"/probe?target=hung{i}" for i in range(4)])
        )
        await async_wait_for(lambda: runtime.on_demand.pending == 4, "four pending runs")
        await async_wait_for(lambda: len(accepted) == 2, "two connections")
        metrics = await _get(base, "/metrics")
        assert _metric(metrics, "business_exporter_probes_in_flight") == 2
        assert _metric(metrics, "business_exporter_probe_runs_pending") == 4
        assert _metric(metrics, "business_exporter_probe_requests_in_flight") == 4
        assert runtime.scheduler.in_flight == 2  # the other two wait in line for a slot
        responses = await flood
    assert len(accepted) == 4
    assert {r.status_code for r in responses} == {200}


async def test_beyond_the_pending_bound_probe_answers_429_with_retry_after(
    hung: tuple[str, list[socket.socket]], tmp_path: Path
) -> None:
    url, _ = hung
    config = exporter_config(tmp_path, *(f"hung{i}={url}/" for i in range(3)))
    with exporter(config, max_pending=2) as (base, runtime):
        flood = asyncio.ensure_future(
            _probe_all(base, ["/probe?target=hung0", "/probe?target=hung1"])
        )
        await async_wait_for(lambda: runtime.on_demand.pending == 2, "two pending runs")
        refused, debug = await _probe_all(
            base, ["/probe?target=hung2", "/probe?target=hung0&debug=true"]
        )
        # Joining a pending run adds no run: never refused.
        joined = asyncio.ensure_future(_probe_all(base, ["/probe?target=hung0"]))
        await async_wait_for(lambda: runtime.on_demand.requests_in_flight == 3, "a joined request")
        metrics = await _get(base, "/metrics")
        responses = [*await flood, *await joined]
    for response in (refused, debug):
        assert response.status_code == 429
        assert response.headers["retry-after"] == "2"  # the target's timeout
        assert response.text == (
            "Too many /probe runs pending (2, --max-pending-probes): retry after 2s.\n"
        )
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert _metric(metrics, "business_exporter_probe_requests_rejected_total") == 2
    assert _metric(metrics, "business_exporter_max_pending_probe_runs") == 2
    assert runtime.on_demand.pending == 0


async def test_a_request_that_leaves_the_line_takes_no_slot() -> None:
    scheduler = Scheduler(max_concurrency=1)
    with hung_server() as (url, accepted):
        first, second = config(
            target("a", url, interval="1s", timeout="300ms"), target("b", url)
        ).targets
        running = asyncio.ensure_future(scheduler.run_now(compile_plan(first)))
        await async_wait_for(lambda: scheduler.in_flight == 1, "the first run")
        waiting = asyncio.ensure_future(scheduler.run_now(compile_plan(second)))
        await asyncio.sleep(0)  # in line for the only slot
        waiting.cancel()
        result, _ = await running
        with pytest.raises(asyncio.CancelledError):
            await waiting
    assert result.reason == "timeout"
    assert scheduler.in_flight == 0
    assert len(accepted) == 1


async def test_a_slot_granted_to_a_request_that_has_gone_is_given_back() -> None:
    scheduler = Scheduler(max_concurrency=1)
    (never,) = config(target("never", "http://127.0.0.1:1/")).targets
    scheduler.in_flight = 1  # a run holds the only slot
    waiting = asyncio.ensure_future(scheduler.run_now(compile_plan(never)))
    await asyncio.sleep(0)  # in line
    scheduler._free_slot()  # that run ends: the slot goes to the one in line...
    waiting.cancel()  # ...whose request is cancelled before it can start
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert scheduler.in_flight == 0
