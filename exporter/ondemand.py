"""Runs for /probe: shared between concurrent requests, bounded, under the scheduler's limit."""

from __future__ import annotations

import asyncio
import math

from exporter.plan import TargetPlan
from exporter.probes import ProbeResult, Trace
from exporter.scheduler import Scheduler
from exporter.web import DEFAULT_MAX_PENDING_PROBES

Outcome = tuple[ProbeResult, float]


class TooManyProbes(Exception):
    """Every pending on-demand run is taken: the request should come back later."""

    def __init__(self, pending: int, retry_after: int) -> None:
        self.pending = pending
        self.retry_after = retry_after
        super().__init__(f"{pending} /probe runs are pending, the most allowed")


class OnDemandProbes:
    """Serves /probe runs: concurrent requests for one target share one run.

    A run takes a slot of the scheduler's concurrency limit like a scheduled run, and waits
    in the same line for one. At most `max_pending` runs (waiting or running) exist at once;
    a request that would start another is refused with TooManyProbes, one that can join a
    pending run never is. Each run ends within its target's timeout, so every request does.
    """

    def __init__(self, scheduler: Scheduler, max_pending: int = DEFAULT_MAX_PENDING_PROBES) -> None:
        self.scheduler = scheduler
        self.max_pending = max_pending
        self.requests_in_flight = 0
        self.rejected = 0
        self.pending = 0
        self._shared: dict[str, tuple[TargetPlan, asyncio.Task[Outcome]]] = {}

    async def run(self, target: TargetPlan, trace: Trace | None = None) -> Outcome:
        """The outcome of a run of `target` for one request; a traced run is its own."""
        self.requests_in_flight += 1
        try:
            if trace is not None:
                return await self._own_run(target, trace)
            # One request leaving must not cancel the run the others wait for.
            return await asyncio.shield(self._shared_run(target))
        finally:
            self.requests_in_flight -= 1

    async def stop(self) -> None:
        """Cancel the shared runs, at shutdown."""
        runs = [task for _, task in self._shared.values()]
        for task in runs:
            task.cancel()
        await asyncio.gather(*runs, return_exceptions=True)

    async def _own_run(self, target: TargetPlan, trace: Trace) -> Outcome:
        self._admit(target)
        try:
            return await self.scheduler.run_now(target, trace)
        finally:
            self.pending -= 1

    def _shared_run(self, target: TargetPlan) -> asyncio.Task[Outcome]:
        entry = self._shared.get(target.name)
        if entry is not None and entry[0] is target:
            return entry[1]
        self._admit(target)  # a reload may have changed the target: that run is not this one
        task = asyncio.get_running_loop().create_task(self.scheduler.run_now(target))
        self._shared[target.name] = (target, task)
        task.add_done_callback(lambda done: self._finished(target.name, done))
        return task

    def _finished(self, name: str, task: asyncio.Task[Outcome]) -> None:
        self.pending -= 1
        entry = self._shared.get(name)
        if entry is not None and entry[1] is task:
            del self._shared[name]

    def _admit(self, target: TargetPlan) -> None:
        if self.pending >= self.max_pending:
            self.rejected += 1
            # A slot frees within a run's timeout at worst; this target's is a fair guess.
            raise TooManyProbes(self.pending, max(1, math.ceil(target.timeout)))
        self.pending += 1
