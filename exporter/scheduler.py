"""One asyncio loop per target: phase-spread starts, a global concurrency limit, timeouts."""

from __future__ import annotations

import asyncio
import logging
import time
import zlib

from exporter.config import Config, Target, format_duration
from exporter.conventions import REASON_ERROR, REASON_TIMEOUT
from exporter.probes import PROBES, ProbeResult, StepResult, Trace
from exporter.state import Histogram, TargetState

log = logging.getLogger(__name__)

LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)


def phase(name: str, interval: float) -> float:
    """A stable offset within the interval, so targets sharing an interval do not fire at once."""
    return zlib.crc32(name.encode()) / 2**32 * interval


def first_due(name: str, interval: float, now: float) -> float:
    """The target's next slot on a fixed grid, so a restarted loop keeps its schedule."""
    due = now - now % interval + phase(name, interval)
    return due if due >= now else due + interval


async def run_once(target: Target, trace: Trace | None = None) -> tuple[ProbeResult, float]:
    """Run one probe under the target's timeout. Never raises, except on cancellation."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(target.timeout):
            result = await PROBES[target.kind](target.spec, trace)
    except TimeoutError:
        result = ProbeResult.failed(
            REASON_TIMEOUT,
            f"no result within the timeout of {format_duration(target.timeout)}",
            steps=_unfinished_steps(target),
        )
        if trace:  # the probe was cut off before it could say so itself
            trace.add(f"cancelled: {result.detail}")
    except Exception as err:  # a broken probe is a failed run, never a dead loop
        log.exception("probe %s raised", target.name)
        detail = f"the probe raised {type(err).__name__}: {err}"
        result = ProbeResult.failed(REASON_ERROR, detail, steps=_unfinished_steps(target))
        if trace:
            trace.add(f"crashed: {result.detail}")
    return result, time.perf_counter() - started


def _unfinished_steps(target: Target) -> list[StepResult]:
    """A multi-step kind's steps as failed, so that their series stay when a run is cut off."""
    return [StepResult(name, False, 0.0) for name in target.spec.step_names()]


class Scheduler:
    """Runs every configured target on its interval and keeps the state table."""

    def __init__(self, max_concurrency: int = 500) -> None:
        self.max_concurrency = max_concurrency
        self.states: dict[str, TargetState] = {}
        self.in_flight = 0
        self.missed_runs = 0
        self.lag = Histogram(LAG_BUCKETS)
        self.running = False
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._slots: asyncio.Semaphore | None = None

    def apply(self, config: Config) -> None:
        """Start, restart or stop loops so that they match `config`. Must run on the loop."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrency)
        wanted = {t.name: t for t in config.targets}
        for name in [n for n in self.states if n not in wanted]:
            self._tasks.pop(name).cancel()
            del self.states[name]
        for name, target in wanted.items():
            old = self.states.get(name)
            if old is not None and old.target == target:
                continue
            if old is not None:
                self._tasks.pop(name).cancel()
            keep = old is not None and old.target.static_labels() == target.static_labels()
            state = old if keep and old is not None else TargetState(target)
            state.target = target
            self.states[name] = state
            self._tasks[name] = asyncio.create_task(self._loop(state), name=f"probe:{name}")
        self.running = True

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self.running = False

    def loops_alive(self) -> int:
        return sum(not t.done() for t in self._tasks.values())

    async def _loop(self, state: TargetState) -> None:
        loop = asyncio.get_running_loop()
        interval = state.target.interval
        due = first_due(state.target.name, interval, loop.time())
        while True:
            await asyncio.sleep(due - loop.time())
            await self._run(state, due)
            due = self._next_due(due, interval, loop.time())

    async def _run(self, state: TargetState, due: float) -> None:
        assert self._slots is not None
        async with self._slots:
            self.lag.observe(max(0.0, asyncio.get_running_loop().time() - due))
            self.in_flight += 1
            try:
                result, duration = await run_once(state.target)
            finally:
                self.in_flight -= 1
        if state.record(result, duration, time.time()):
            _log_transition(state, result)

    def _next_due(self, due: float, interval: float, now: float) -> float:
        """The next slot; whole intervals already past are skipped and counted as missed."""
        due += interval
        if now >= due + interval:
            missed = int((now - due) // interval)
            self.missed_runs += missed
            due += missed * interval
        return due


def _log_transition(state: TargetState, result: ProbeResult) -> None:
    target = state.target
    if state.failing:
        log.warning(
            "%s is failing after %d consecutive failures: %s (%s)",
            target.name,
            state.consecutive_failures,
            result.reason,
            result.detail,
        )
    else:
        log.info(
            "%s recovered after %d consecutive successes", target.name, state.consecutive_successes
        )
