from __future__ import annotations

import asyncio
import collections
import logging
import math
import resource
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from exporter import plan
from exporter.cli import main
from exporter.config import Config, load_config, parse_config, parse_duration
from exporter.config.parsed import Parsed
from exporter.probes import ProbeResult, Trace
from exporter.runtime import Runtime, worst_case_in_flight
from exporter.scheduler import (
    BATCH_WINDOW,
    LAG_BUCKETS,
    Scheduler,
    first_due,
    phase,
    run_once,
)
from exporter.state import Histogram, TargetState
from tests.fresh import in_fresh_process
from tests.servers import async_wait_for, hung_server, serve_app


def config(*targets: str) -> Config:
    return parse_config("targets:\n" + "".join(targets))


def target(
    name: str, url: str, interval: str = "100ms", timeout: str = "100ms", **extra: Any
) -> str:
    more = "".join(f"    {k}: {v}\n" for k, v in extra.items())
    return (
        f"  - name: {name}\n    severity: critical\n    context: revenue_critical\n"
        f"    service: api\n    interval: {interval}\n    timeout: {timeout}\n{more}"
        f'    http: {{url: "{url}"}}\n'
    )


@pytest.fixture(scope="module")
def ok_url() -> Iterator[str]:
    async def ok(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    with serve_app(Starlette(routes=[Route("/ok", ok)])) as base:
        yield base + "/ok"


async def test_a_hung_target_times_out_without_delaying_the_others(ok_url: str) -> None:
    scheduler = Scheduler()
    with hung_server() as (hung_url, _):
        scheduler.apply(
            config(
                target("hung", hung_url, interval="300ms", timeout="250ms"),
                target("fast", ok_url, interval="50ms", timeout="50ms"),
            )
        )
        hung, fast = scheduler.states["hung"], scheduler.states["fast"]
        try:
            await async_wait_for(lambda: hung.runs.get("timeout", 0) >= 2, what="two timeouts")
            fast_runs_meanwhile = fast.runs["success"]
        finally:
            await scheduler.stop()
    # 2 hung runs take at least 550ms: a 50ms loop left alone runs about 11 times meanwhile.
    assert fast_runs_meanwhile >= 8
    assert hung.last_result is not None
    assert hung.last_result.detail == "no result within the timeout of 250ms"
    assert 0.24 <= hung.last_duration < 0.4  # timers may fire a clock tick early


async def test_a_probe_that_raises_is_a_failure_and_its_loop_lives_on(
    ok_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0

    async def broken(trace: Trace | None) -> ProbeResult:
        nonlocal calls
        calls += 1
        raise RuntimeError("bug in a probe")

    monkeypatch.setitem(plan.PREPARE, "http", lambda spec: broken)
    scheduler = Scheduler()
    scheduler.apply(config(target("broken", ok_url, failure_threshold=2)))
    state = scheduler.states["broken"]
    try:
        await async_wait_for(lambda: state.runs.get("error", 0) >= 3, what="three failed runs")
        assert scheduler.scheduled_targets() == 1
    finally:
        await scheduler.stop()
    assert state.failing
    assert state.last_result is not None
    assert state.last_result.detail == "the probe raised RuntimeError: bug in a probe"


async def test_the_concurrency_limit_holds_and_in_flight_counts_running_probes() -> None:
    scheduler = Scheduler(max_concurrency=3)
    with hung_server() as (hung_url, accepted):
        scheduler.apply(
            config(*(target(f"t{i}", hung_url, interval="1s", timeout="1s") for i in range(10)))
        )
        try:
            await async_wait_for(lambda: scheduler.in_flight == 3, what="3 probes in flight")
            await async_wait_for(lambda: len(accepted) == 3, what="3 connections")
            await asyncio.sleep(0.2)  # let any probe that would break the limit do so
            assert (scheduler.in_flight, len(accepted)) == (3, 3)
        finally:
            await scheduler.stop()


async def test_apply_starts_new_targets_stops_removed_ones_and_keeps_unchanged_state(
    ok_url: str,
) -> None:
    scheduler = Scheduler()
    scheduler.apply(config(target("a", ok_url), target("b", ok_url)))
    try:
        a = scheduler.states["a"]
        await async_wait_for(lambda: a.runs["success"] >= 2, what="runs of a")
        scheduler.apply(config(target("a", ok_url), target("c", ok_url)))
        assert sorted(scheduler.states) == ["a", "c"]
        assert scheduler.states["a"] is a
        await async_wait_for(lambda: scheduler.scheduled_targets() == 2, what="b unscheduled")
        scheduler.apply(config(target("a", ok_url, tenant="acme")))
        assert scheduler.states["a"] is not a  # new labels: new series from zero
    finally:
        await scheduler.stop()


async def test_idle_targets_hold_no_task_only_a_slot_in_the_timer_heap(ok_url: str) -> None:
    before = len(asyncio.all_tasks())
    scheduler = Scheduler()
    # Phases spread an hour-long interval's first slots over the hour: none is due in this test.
    scheduler.apply(config(*(target(f"t{i}", ok_url, interval="1h") for i in range(200))))
    try:
        assert scheduler.scheduled_targets() == 200
        assert len(asyncio.all_tasks()) == before
    finally:
        await scheduler.stop()
    assert scheduler.scheduled_targets() == 0


def behind_a_hung_target(
    scheduler: Scheduler,
    hung_url: str,
    ok_url: str,
    interval: str,
    timeout: str,
    fast: str = "100ms",
) -> TargetState:
    """Schedule a hung target and a fast one (every 100ms); return the fast one's state."""
    scheduler.apply(
        config(
            target("hung", hung_url, interval=interval, timeout=timeout),
            target("fast", ok_url, interval=fast, timeout=fast),
        )
    )
    return scheduler.states["fast"]


async def test_a_run_due_while_every_slot_is_taken_waits_and_its_lateness_counts(
    ok_url: str,
) -> None:
    scheduler = Scheduler(max_concurrency=1)
    with hung_server() as (hung_url, _):
        fast = behind_a_hung_target(scheduler, hung_url, ok_url, "250ms", "200ms")
        try:
            await async_wait_for(lambda: fast.runs["success"] >= 5, what="five runs of fast")
        finally:
            await scheduler.stop()
    # The hung target holds the only slot 80% of the time: fast's slots fall in its runs.
    waited_50ms = scheduler.lag.count - dict(scheduler.lag.cumulative())[0.05]
    assert waited_50ms >= 1


async def test_a_run_still_waiting_when_its_next_slot_comes_is_missed_not_run_late(
    ok_url: str,
) -> None:
    scheduler = Scheduler(max_concurrency=1)
    with hung_server() as (hung_url, _):
        fast = behind_a_hung_target(scheduler, hung_url, ok_url, "1s", "600ms")
        try:
            await async_wait_for(lambda: scheduler.missed_runs >= 3, what="missed runs")
            await async_wait_for(lambda: fast.runs["success"] >= 2, what="fast running again")
        finally:
            await scheduler.stop()
    # No run started later than its interval: the ones that would have were missed instead.
    assert dict(scheduler.lag.cumulative())[0.1] == scheduler.lag.count


async def test_every_slot_is_either_run_or_counted_missed_exactly_once(ok_url: str) -> None:
    scheduler = Scheduler(max_concurrency=1)
    loop = asyncio.get_running_loop()
    intervals = {"hung": 0.5, "fast": 0.05}
    with hung_server() as (hung_url, _):
        applied = loop.time()
        behind_a_hung_target(scheduler, hung_url, ok_url, "500ms", "400ms", fast="50ms")
        try:
            await async_wait_for(lambda: scheduler.missed_runs >= 40, what="missed runs")
            now = loop.time()
            slots = sum(
                math.floor((now - first_due(name, interval, applied)) / interval) + 1
                for name, interval in intervals.items()
            )
            runs = sum(sum(scheduler.states[name].runs.values()) for name in intervals)
            accounted = runs + scheduler.missed_runs
        finally:
            await scheduler.stop()
    # Each target may have one slot that has come but is not finished yet: in flight, waiting
    # for the only place, or its timer about to fire.
    assert slots - len(intervals) <= accounted <= slots


async def test_runs_due_within_the_batch_window_start_together_and_never_after_their_slot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # On a 1 s grid, batch253's slot is 5.5 ms after batch347's, batch302's 41 ms after that.
    names = ["batch347", "batch253", "batch302"]
    started: dict[str, float] = {}

    def prepare(spec: Any) -> Any:
        async def record(trace: Trace | None) -> ProbeResult:
            started.setdefault(spec.url.rsplit("/", 1)[1], asyncio.get_running_loop().time())
            return ProbeResult.ok()

        return record

    monkeypatch.setitem(plan.PREPARE, "http", prepare)
    scheduler = Scheduler()
    applied = asyncio.get_running_loop().time()
    scheduler.apply(config(*(target(n, f"http://127.0.0.1:9/{n}", interval="1s") for n in names)))
    try:
        await async_wait_for(lambda: len(started) == 3, what="a run of each target")
    finally:
        await scheduler.stop()
    due = {name: first_due(name, 1.0, applied) for name in names}
    assert started["batch253"] == pytest.approx(started["batch347"], abs=0.001)  # one wake
    assert due["batch253"] - BATCH_WINDOW <= started["batch253"] < due["batch253"]
    assert started["batch302"] >= due["batch302"] - 0.002  # the next wake: a timer tick early
    assert all(started[n] <= due[n] + 0.5 for n in names)  # none waited for another's slot


async def test_runs_started_together_are_each_cut_off_at_their_timeout(ok_url: str) -> None:
    # Slots 5.5 ms apart on a 1 s grid: one wake-up starts both, and they share a timer.
    scheduler = Scheduler()
    with hung_server() as (hung_url, _):
        scheduler.apply(
            config(
                target("batch347", ok_url, interval="1s", timeout="300ms"),
                target("batch253", hung_url, interval="1s", timeout="300ms"),
                target("other", ok_url, interval="1s", timeout="300ms"),
            )
        )
        fast, hung = scheduler.states["batch347"], scheduler.states["batch253"]
        try:
            await async_wait_for(lambda: hung.last_result is not None, what="the hung run ended")
        finally:
            await scheduler.stop()
    assert (fast.last_result and fast.last_result.reason) == "success"
    assert (hung.last_result and hung.last_result.reason) == "timeout"
    assert 0.28 <= hung.last_duration < 0.5  # cut off at its own timeout though its peer ended
    assert scheduler.in_flight == 0


def test_phases_spread_targets_on_one_interval_evenly() -> None:
    offsets = [phase(f"target_{i}", 10.0) for i in range(1000)]
    assert all(0 <= o < 10 for o in offsets)
    per_second = collections.Counter(int(o) for o in offsets)
    assert len(per_second) == 10
    assert max(per_second.values()) < 130  # 100 each if perfectly even


def test_a_phase_is_stable_across_restarts() -> None:
    names = [f"tenant{i}_login" for i in range(50)]
    here = [phase(name, 60.0) for name in names]
    for seed in (1, 2):
        there = in_fresh_process(
            "from exporter.scheduler import phase", f"[phase(n, 60.0) for n in {names!r}]", seed
        )
        assert there == here
    assert len(set(here)) == len(names)


@pytest.mark.parametrize("now", [0.0, 3.2, 7.9, 10.0, 12345.6])
def test_the_first_run_is_the_next_slot_on_the_targets_grid(now: float) -> None:
    due = first_due("zebra_admin_access", 10.0, now)
    assert now <= due < now + 10.0
    slots = (due - phase("zebra_admin_access", 10.0)) / 10.0
    assert slots == pytest.approx(round(slots))


async def test_a_debug_trace_says_when_the_timeout_cut_the_probe_off() -> None:
    with hung_server() as (url, _):
        hung = parse_config(
            "targets:\n" + target("hung", url, interval="1s", timeout="200ms")
        ).targets[0]
        trace = Trace()
        result, duration = await run_once(hung, trace)
    assert result.reason == "timeout"
    assert trace.lines[-1] == "cancelled: no result within the timeout of 200ms"
    assert duration >= 0.19  # timers may fire a clock tick early


def test_a_limit_below_the_worst_case_is_reported_at_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    targets = [
        target(f"t{i}", "http://127.0.0.1:1/", interval="10s", timeout="5s") for i in range(8)
    ]
    eight = config(*targets)
    runtime = Runtime(eight, None, max_concurrency=3)
    assert worst_case_in_flight(eight) == 4
    with caplog.at_level(logging.WARNING):
        runtime._mine(Parsed.of(eight))
    assert "4 probes would be in flight, above --max-concurrent-probes 3" in caplog.text
    caplog.clear()
    Runtime(eight, None, max_concurrency=4)._mine(Parsed.of(eight))
    assert caplog.text == ""


# The default limit, computed from the config


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_a_concurrency_limit_that_would_run_nothing_is_refused(
    value: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text("targets:\n" + target("a", "http://127.0.0.1:9/"))
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--config", str(path), "--max-concurrent-probes", value])
    assert exited.value.code == 2
    assert "must be a whole number of 1 or more" in capsys.readouterr().err


def hung_and_healthy(hung_url: str, ok_url: str, hung: int, healthy: int) -> Config:
    return config(
        *(target(f"hung{i}", hung_url, interval="1s", timeout="900ms") for i in range(hung)),
        *(target(f"ok{i}", ok_url, interval="1s", timeout="900ms") for i in range(healthy)),
    )


def test_without_a_limit_given_it_is_the_worst_case_with_headroom(
    caplog: pytest.LogCaptureFixture,
) -> None:
    many = config(*(target(f"t{i}", "http://127.0.0.1:1/", "10s", "9s") for i in range(200)))
    assert worst_case_in_flight(many) == pytest.approx(180)
    with caplog.at_level(logging.INFO):
        runtime = Runtime(many, None)
        runtime._mine(Parsed.of(many))
    assert runtime.scheduler.max_concurrency == 235  # 180 x 1.25 + 10
    assert "at most 235 probes in flight: the config's worst case (every target hung) is 180" in (
        caplog.text
    )
    few = config(target("t", "http://127.0.0.1:1/"))
    assert Runtime(few, None).scheduler.max_concurrency == 100  # the floor, room for /probe
    assert Runtime(many, None, max_concurrency=7).scheduler.max_concurrency == 7  # a flag wins


def test_the_default_limit_leaves_sockets_within_the_open_files_limit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    many = config(*(target(f"t{i}", "http://127.0.0.1:1/", "10s", "9s") for i in range(400)))
    runtime = Runtime(many, None)  # raises the soft limit to the hard one, as Go programs do
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft == hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (512, hard))  # as if the hard limit were 512
    try:
        with caplog.at_level(logging.WARNING):
            runtime._mine(Parsed.of(many))
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert runtime.scheduler.max_concurrency == 512 - 256  # not the 460 the worst case asks
    assert (
        "at most 256 probes in flight: the config's worst case (every target hung) is 360, "
        "above the cap (10000, and the open-files limit 512 less 256)"
    ) in caplog.text


async def test_a_reload_computes_the_default_limit_again(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    one = [target(f"t{i}", "http://127.0.0.1:1/", "1h", "1h") for i in range(100)]
    path.write_text("targets:\n" + "".join(one))
    runtime = Runtime(load_config(path), path)
    runtime.start()
    try:
        assert runtime.scheduler.max_concurrency == 135
        path.write_text("targets:\n" + "".join(one * 2).replace("name: t", "name: u", 100))
        assert await runtime.reload() is None
        assert runtime.scheduler.max_concurrency == 260
    finally:
        await runtime.stop()


@pytest.mark.parametrize(("limit", "starved"), [(None, False), (60, True)])
async def test_by_default_hung_targets_cannot_starve_healthy_ones(
    ok_url: str, limit: int | None, starved: bool
) -> None:
    with hung_server() as (hung_url, _):
        runtime = Runtime(hung_and_healthy(hung_url, ok_url, hung=120, healthy=10), None, limit)
        runtime.start()
        try:
            healthy = [runtime.scheduler.states[f"ok{i}"] for i in range(10)]
            await async_wait_for(
                lambda: (
                    all(s.runs.get("timeout", 0) >= 2 for _, s in _hung(runtime))
                    or runtime.scheduler.missed_runs > 20
                ),
                what="the hung targets to time out twice",
            )
            runs = sum(s.runs.get("success", 0) for s in healthy)
        finally:
            await runtime.stop()
    if starved:
        assert runtime.scheduler.missed_runs > 0
    else:  # every target starts on its slot: the healthy ones run every second
        assert (runtime.scheduler.missed_runs, runs >= 20) == (0, True)


def _hung(runtime: Runtime) -> list[tuple[str, TargetState]]:
    return [(n, s) for n, s in runtime.scheduler.states.items() if n.startswith("hung")]


@pytest.mark.parametrize("interval", ["10s", "1m", "1h", "24h"])
def test_a_run_late_by_almost_its_interval_lands_in_a_finite_lag_bucket(interval: str) -> None:
    lag = Histogram(LAG_BUCKETS)
    lag.observe(parse_duration(interval) * 0.99)  # any later and the run is missed instead
    [(bound, _)] = [(b, n) for b, n in lag.cumulative() if n == 1][:1]
    assert bound < math.inf
