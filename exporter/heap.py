"""Keeps Python's cyclic garbage collector from stalling the scheduler.

With ten thousand targets the heap holds hundreds of thousands of long-lived objects (plans, probe
states), and every full collection walked them all: a 200-300 ms pause now and
then, during which no probe started (bench/scheduling.py: p99 start lateness 0.28 s; 6 ms with
the collector off). Once the heap has settled, its objects are moved out of the collector's
reach with gc.freeze(); a reload thaws them first, so the old config can be collected.

Settling also hands the C allocator's free memory back to the system: glibc keeps what a
config parse freed (its peak is several times what the config keeps) until it is asked.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
from collections.abc import Callable, Iterable

# Settled: every target has run once (its probe plan is built), or a minute has passed.
MAX_SETTLE_SECONDS = 60.0


def settle_delay(intervals: Iterable[float]) -> float:
    """Seconds until the heap settles, given the targets' intervals."""
    longest = max(intervals, default=0.0)
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
        release_free_memory()


def _find_malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has none): nothing to ask
        return None
    return trim


_malloc_trim = _find_malloc_trim()


def release_free_memory() -> bool:
    """Return the C allocator's free pages to the system; False where it cannot be asked."""
    if _malloc_trim is None:
        return False
    _malloc_trim(0)
    return True
