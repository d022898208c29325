"""Bounds on what reading and parsing a config may cost: its size, time and memory.

The file's size is checked as it is read, and YAML aliases as it is parsed (yamlsource.py).
Time and memory are bounded around the whole parse: in the child process a long-running
exporter parses in (isolated.py), by the parent's timeout and the child's own RLIMIT_AS; in
a command's own process (`check`, `probe`, `generate`), by `bounded()` below.
"""

from __future__ import annotations

import contextlib
import re
import resource
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

from exporter.config.types import format_duration
from exporter.yamlsource import Problem

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
_SIZE = re.compile(r"^(\d+)(B|KiB|MiB|GiB)?$")
_UNITS = {"B": 1, "KiB": KiB, "MiB": MiB, "GiB": GiB, None: 1}


@dataclass(frozen=True, slots=True)
class ConfigLimits:
    """What a config may cost to load. The defaults leave room for some 80,000 targets."""

    max_size: int = 16 * MiB  # 10,000 targets take about 2 MiB
    parse_timeout: float = 60.0  # 10,000 targets parse in 2-3 s on one core
    parse_memory: int = 2 * GiB  # 10,000 targets peak at about 150 MiB

    def size_problem(self) -> Problem:
        return Problem(
            "",
            f"the file is larger than {format_size(self.max_size)}, the limit "
            "(--config-max-size raises it)",
        )

    def timeout_problem(self) -> Problem:
        return Problem(
            "",
            f"parsing the config took longer than {format_duration(self.parse_timeout)}, "
            "the limit (--config-parse-timeout raises it)",
        )

    def memory_problem(self) -> Problem:
        return Problem(
            "",
            f"parsing the config needed more than {format_size(self.parse_memory)} of memory, "
            "the limit (--config-parse-memory raises it)",
        )


DEFAULT_LIMITS = ConfigLimits()


def parse_size(value: str) -> int:
    """`16MiB`, `512KiB`, `2GiB` or a number of bytes."""
    match = _SIZE.match(value.strip())
    if match is None:
        raise ValueError(f'must be a size such as "16MiB", "512KiB" or "2GiB", not {value!r}')
    return int(match.group(1)) * _UNITS[match.group(2)]


def format_size(size: int) -> str:
    for unit, factor in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"


class ParseTimeout(Exception):
    """The parse ran past its time limit."""


def cap_address_space(extra: int) -> tuple[int, int]:
    """Let this process grow by at most `extra` bytes of address space; return the old limit."""
    old = resource.getrlimit(resource.RLIMIT_AS)
    soft, hard = old
    cap = address_space() + extra
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft == resource.RLIM_INFINITY or cap < soft:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    return old


def address_space() -> int:
    """This process's virtual memory size, in bytes (what RLIMIT_AS limits)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    return pages * resource.getpagesize()


@contextlib.contextmanager
def bounded(limits: ConfigLimits) -> Iterator[None]:
    """Run a parse in this process under the limits' time and memory; raise ParseTimeout.

    For a command's main thread, whose process does nothing else meanwhile: the memory cap
    holds for the whole process, and the timer is a signal (it interrupts a blocked read,
    as from a FIFO, too). A long-running exporter parses in a child instead (isolated.py).
    """
    old_limit = cap_address_space(limits.parse_memory)
    with _timer(limits.parse_timeout):
        try:
            yield
        finally:
            resource.setrlimit(resource.RLIMIT_AS, old_limit)


@contextlib.contextmanager
def _timer(seconds: float) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only; there is no timer to set here
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise ParseTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
