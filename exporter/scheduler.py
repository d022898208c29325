"""Probe scheduling: phase-spread slots on one timer, a global concurrency limit, timeouts."""

from __future__ import annotations

import asyncio
import collections
import heapq
import itertools
import logging
import math
import time
import zlib

from exporter.config import Config, Target, format_duration
from exporter.conventions import REASON_ERROR, REASON_TIMEOUT
from exporter.plan import TargetPlan, compile_plan, compile_plans
from exporter.probes import ProbeResult, StepResult, Trace, time_budget
from exporter.state import Histogram, TargetState

log = logging.getLogger(__name__)

# A run starts at most one interval late (later, it is missed): the buckets go up to a day, the
# longest interval, with the fine ones where a healthy scheduler's lag is.
LAG_BUCKETS = (
    *(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
    *(1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 21600.0, 86400.0),
)

# A run waiting for a slot: its slot's time, its state, its plan.
_Waiting = tuple[float, TargetState, TargetPlan]

# Slots this close ahead are started now, so one wake-up of the loop starts every run due in
# the next 10 ms: with a thousand targets every 2 s that is 5 runs a wake, not 1, and each wake
# costs a timer and a turn of the loop (bench/serve_cost.py). A run starts at most this much
# before its slot, never later for it; its schedule stays on its grid.
BATCH_WINDOW = 0.010


def phase(name: str, interval: float) -> float:
    """A stable offset within the interval, so targets sharing an interval do not fire at once."""
    return zlib.crc32(name.encode()) / 2**32 * interval


def first_due(name: str, interval: float, now: float) -> float:
    """The target's next slot on a fixed grid, so a restarted loop keeps its schedule."""
    due = now - now % interval + phase(name, interval)
    return due if due >= now else due + interval


async def run_once(
    plan: TargetPlan | Target,
    trace: Trace | None = None,
    *,
    loop: asyncio.AbstractEventLoop | None = None,
) -> tuple[ProbeResult, float]:
    """Run one probe under the target's timeout. Never raises, except on cancellation.

    A Target (the CLI's `probe`, tests) is compiled for this run alone. `loop`, the running
    loop if the caller has it at hand, spares asking for it.
    """
    if isinstance(plan, Target):
        plan = compile_plan(plan)
    if loop is None:
        loop = asyncio.get_running_loop()
    started = time.perf_counter()
    try:
        async with asyncio.timeout_at(loop.time() + plan.timeout):
            result = await _probe(plan, trace)
    except TimeoutError:
        result = _timed_out(plan, trace)
    return result, time.perf_counter() - started


async def _probe(plan: TargetPlan, trace: Trace | None) -> ProbeResult:
    """The plan's probe, told its time budget; a probe that raises is a failed run."""
    try:
        with time_budget(plan.timeout):
            return await plan.probe(trace)
    except Exception as err:  # a broken probe is a failed run, never a dead loop
        log.exception("probe %s raised", plan.name)
        detail = f"the probe raised {type(err).__name__}: {err}"
        result = ProbeResult.failed(REASON_ERROR, detail, steps=_unfinished_steps(plan))
        if trace:
            trace.add(f"crashed: {result.detail}")
        return result


def _timed_out(plan: TargetPlan, trace: Trace | None) -> ProbeResult:
    result = ProbeResult.failed(
        REASON_TIMEOUT,
        f"no result within the timeout of {format_duration(plan.timeout)}",
        steps=_unfinished_steps(plan),
    )
    if trace:  # the probe was cut off before it could say so itself
        trace.add(f"cancelled: {result.detail}")
    return result


class _Cutoff:
    """Runs started together with one timeout: a single timer cuts off those still running.

    asyncio.timeout() arms and cancels a timer of its own for every run, 5 us a run on uvloop;
    the runs one wake-up starts share one timer, cancelled when the last of them ends. A run
    cut off is cancelled, and tells that cancellation from any other by asking cut_off().
    """

    __slots__ = ("_expired", "_running", "_timer")

    def __init__(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        self._running: set[asyncio.Task[None]] = set()
        self._expired: set[asyncio.Task[None]] = set()
        self._timer: asyncio.TimerHandle | None = loop.call_at(deadline, self._expire)

    def add(self, run: asyncio.Task[None]) -> None:
        self._running.add(run)

    def finished(self, run: asyncio.Task[None]) -> None:
        self._running.discard(run)
        self._expired.discard(run)
        if not self._running and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def cut_off(self, run: asyncio.Task[None]) -> bool:
        """Whether `run`'s cancellation was this timer's alone (none other is pending)."""
        return run in self._expired and run.uncancel() == 0

    def _expire(self) -> None:
        self._timer = None
        for run in self._running:
            if not run.done():
                self._expired.add(run)
                run.cancel()


def _unfinished_steps(plan: TargetPlan) -> list[StepResult]:
    """A multi-step kind's steps as failed, so that their series stay when a run is cut off."""
    return [StepResult(name, False, 0.0) for name in plan.step_names]


class Scheduler:
    """Runs every configured target on its interval and keeps the state table.

    One timer serves every target: a heap holds each target's next slot, and a run gets a
    task only while it is in flight. An idle task per target, with its coroutine and sleep,
    cost about 1.5 KB each (tracemalloc); now tasks are bounded by the concurrency limit.
    A run whose slot comes while every slot is taken waits in line, in slot order, and its
    lateness counts from its slot; one still waiting when its next slot comes is missed.
    On-demand runs (/probe) take slots under the same limit and wait in the same line,
    first come first served.
    """

    def __init__(self, max_concurrency: int = 500) -> None:
        self.max_concurrency = max_concurrency
        self.states: dict[str, TargetState] = {}
        self.in_flight = 0
        self.missed_runs = 0
        self.lag = Histogram(LAG_BUCKETS)
        self.running = False
        self._due: list[tuple[float, int, TargetState, TargetPlan]] = []  # a heap
        self._waiting: collections.deque[_Waiting] = collections.deque()
        self._on_demand: collections.deque[tuple[float, asyncio.Future[None]]] = collections.deque()
        self._runs: dict[str, asyncio.Task[None]] = {}  # in flight, by target name
        self._ties = itertools.count()  # heap entries with equal slots never compare states
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        # The loop it runs on, asked once: on Python 3.11 each asyncio.get_running_loop() is a
        # getpid() system call, and a run asked for it ten times (strace: 9.5 getpid a run).
        self._bound: asyncio.AbstractEventLoop | None = None

    @property
    def _loop(self) -> asyncio.AbstractEventLoop:
        loop = self._bound
        if loop is None:  # stop() unbinds it, so a scheduler may run again on another loop
            loop = self._bound = asyncio.get_running_loop()
        return loop

    def apply(self, config: Config) -> None:
        """Schedule, reschedule or drop targets to match `config`. Must run on the loop.

        The config's targets are compiled into plans; an unchanged target keeps its plan.
        """
        previous = {name: state.plan for name, state in self.states.items()}
        self.apply_plans(compile_plans(config.targets, previous))

    def apply_plans(self, plans: list[TargetPlan]) -> None:
        """Schedule, reschedule or drop targets to match `plans`. Must run on the loop."""
        self.running = True
        wanted = {p.name: p for p in plans}
        for name in [n for n in self.states if n not in wanted]:
            self._cancel_run(name)
            del self.states[name]
        now = self._loop.time()
        for name, plan in wanted.items():
            old = self.states.get(name)
            if old is not None and old.plan is plan:
                continue
            self._cancel_run(name)
            keep = old is not None and old.plan.labels.full == plan.labels.full
            state = old if keep and old is not None else TargetState(plan)
            state.plan = plan  # entries that name the old plan are stale from here on
            self.states[name] = state
            self._push(first_due(name, plan.interval, now), state, plan)

    async def stop(self) -> None:
        self.running = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._timer_at = None, math.inf
        self._due.clear()
        self._waiting.clear()
        for _, granted in self._on_demand:
            granted.cancel()
        self._on_demand.clear()
        runs = list(self._runs.values())
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
        self._runs.clear()
        self._bound = None

    async def run_now(
        self, plan: TargetPlan, trace: Trace | None = None
    ) -> tuple[ProbeResult, float]:
        """Run `plan` once, off its schedule, in a slot of the same concurrency limit."""
        await self._take_slot()
        try:
            return await run_once(plan, trace)
        finally:
            self._free_slot()

    async def _take_slot(self) -> None:
        if self.in_flight < self.max_concurrency:  # then no one is waiting in line
            self.in_flight += 1
            return
        loop = asyncio.get_running_loop()
        granted: asyncio.Future[None] = loop.create_future()
        self._on_demand.append((loop.time(), granted))
        try:
            await granted  # _start_waiting takes the slot on this run's behalf
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():  # granted, then cancelled
                self._free_slot()
            raise

    def _free_slot(self) -> None:
        self.in_flight -= 1
        self._start_waiting()

    def scheduled_targets(self) -> int:
        """Targets whose next run is set: due later, waiting for a slot, or running."""
        names = {t.name for _, _, s, t in self._due if self._current(s, t)}
        names.update(t.name for _, s, t in self._waiting if self._current(s, t))
        names.update(self._runs)
        return len(names)

    def _current(self, state: TargetState, target: TargetPlan) -> bool:
        return state.plan is target and self.states.get(target.name) is state

    def _push(self, due: float, state: TargetState, target: TargetPlan) -> None:
        heapq.heappush(self._due, (due, next(self._ties), state, target))
        if due < self._timer_at:
            self._arm(due)

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(when, self._wake)
        self._timer_at = when

    def _wake(self) -> None:
        self._timer, self._timer_at = None, math.inf
        now = self._loop.time()
        cutoffs: dict[float, _Cutoff] = {}
        while self._due and self._due[0][0] <= now + BATCH_WINDOW:
            due, _, state, target = heapq.heappop(self._due)
            if not self._current(state, target):
                continue
            if self.in_flight < self.max_concurrency:
                self._start(due, state, target, now, cutoffs)
            else:
                self._waiting.append((due, state, target))
        if self._due:
            self._arm(self._due[0][0])

    def _start(
        self,
        due: float,
        state: TargetState,
        target: TargetPlan,
        now: float,
        cutoffs: dict[float, _Cutoff],
    ) -> None:
        """Start a run; `cutoffs` are the timers, by timeout, of the runs started with it."""
        self.in_flight += 1
        cutoff = cutoffs.get(target.timeout)
        if cutoff is None:
            cutoff = cutoffs[target.timeout] = _Cutoff(self._loop, now + target.timeout)
        run = self._loop.create_task(self._run(due, state, target, cutoff))
        cutoff.add(run)
        self._runs[target.name] = run

    def _start_waiting(self) -> None:
        now = self._loop.time()
        cutoffs: dict[float, _Cutoff] = {}
        while self.in_flight < self.max_concurrency:
            if self._on_demand and (
                not self._waiting or self._on_demand[0][0] <= self._waiting[0][0]
            ):
                _, granted = self._on_demand.popleft()
                if not granted.done():  # its request may have gone meanwhile
                    self.in_flight += 1
                    granted.set_result(None)
                continue
            if not self._waiting:
                return
            due, state, target = self._waiting.popleft()
            if not self._current(state, target):
                continue
            if now < due + target.interval:
                self._start(due, state, target, now, cutoffs)
            else:  # its next slot has come meanwhile: this run is missed, not run late
                self.missed_runs += 1
                self._push(self._next_due(due, target.interval, now), state, target)

    def _cancel_run(self, name: str) -> None:
        run = self._runs.pop(name, None)
        if run is not None:
            run.cancel()

    async def _run(
        self, due: float, state: TargetState, target: TargetPlan, cutoff: _Cutoff
    ) -> None:
        loop = self._loop
        run = asyncio.current_task(loop)
        assert run is not None
        self.lag.observe(max(0.0, loop.time() - due))
        started = time.perf_counter()
        try:
            try:
                result = await _probe(target, None)
            except asyncio.CancelledError:
                if not cutoff.cut_off(run):
                    raise  # the target was dropped or changed, or the scheduler stops
                result = _timed_out(target, None)
            duration = time.perf_counter() - started
            if self._current(state, target) and state.record(result, duration, time.time()):
                _log_transition(state, result)
        finally:
            cutoff.finished(run)
            # The next slot is set here whatever happened, so a target's schedule never dies;
            # a cancelled run's target was dropped or changed, and its new entry is already in.
            if self._runs.get(target.name) is run:
                del self._runs[target.name]
            if self.running and self._current(state, target):
                self._push(self._next_due(due, target.interval, loop.time()), state, target)
            self._free_slot()

    def _next_due(self, due: float, interval: float, now: float) -> float:
        """The next slot; whole intervals already past are skipped and counted as missed."""
        due += interval
        if now >= due + interval:
            missed = int((now - due) // interval)
            self.missed_runs += missed
            due += missed * interval
        return due


def _log_transition(state: TargetState, result: ProbeResult) -> None:
    target = state.plan
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
