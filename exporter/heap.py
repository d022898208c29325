"""Keeps Python's cyclic garbage collector from stalling the probe loops.

With ten thousand targets the heap holds hundreds of thousands of long-lived objects (config
models, loops, states), and every full collection walked them all: a 200-300 ms pause now and
then, during which no probe started (bench/scheduling.py: p99 start lateness 0.28 s; 6 ms with
the collector off). Once the heap has settled, its objects are moved out of the collector's
reach with gc.freeze(); a reload thaws them first, so the old config can be collected.
"""

from __future__ import annotations

import asyncio
import gc

from exporter.config import Config

# Settled: every target has run once (its probe plan is built), or a minute has passed.
MAX_SETTLE_SECONDS = 60.0


def settle_delay(config: Config) -> float:
    longest = max((t.interval for t in config.targets), default=0.0)
    return min(longest, MAX_SETTLE_SECONDS) + 1.0


class HeapSettler:
    """Freezes the heap a while after a (re)start; thaws it for the next reload or stop."""

    def __init__(self) -> None:
        self._pending: asyncio.Task[None] | None = None

    def settle_later(self, delay: float) -> None:
        self.thaw()
        self._pending = asyncio.get_running_loop().create_task(self._settle(delay))

    def thaw(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        gc.unfreeze()

    async def _settle(self, delay: float) -> None:
        await asyncio.sleep(delay)
        gc.collect()  # one pause here, instead of one at every full collection from now on
        gc.freeze()
