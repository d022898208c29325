"""`business-exporter demo --fast` as a person runs it: a process group of its own, its output
read line by line as it comes, with the moment each line arrived."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from exporter.demo.run import READY

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0  # PostgreSQL, Redis, Prometheus, Alertmanager on a busy machine
STOP_TIMEOUT = 120.0


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    monotonic: float


class Demo:
    """The demo's process and everything it printed so far."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self._lines: list[Line] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def lines(self) -> list[Line]:
        with self._changed:
            return list(self._lines)

    @property
    def output(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def wait_for(self, matches: Callable[[Line], bool], timeout: float, what: str) -> Line:
        """The first line printed that `matches`, waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((line for line in self._lines if matches(line)), None)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (
                    self.process.poll() is not None and not self._reader.is_alive()
                ):
                    tail = "\n".join(line.text for line in self._lines[-40:])
                    raise AssertionError(
                        f"no {what} within {timeout:g}s; the demo printed:\n{tail}"
                    )
                self._changed.wait(min(remaining, 0.5))

    def started(self) -> Line:
        return self.wait_for(lambda line: line.text.startswith(READY), START_TIMEOUT, "banner")

    def banner_ports(self) -> set[int]:
        """Every loopback port the banner names."""
        return {int(port) for port in re.findall(r"127\.0\.0\.1:(\d+)", self.output)}

    def _read(self) -> None:
        assert self.process.stdout is not None
        for text in self.process.stdout:
            with self._changed:
                self._lines.append(Line(text.rstrip("\n"), time.monotonic()))
                self._changed.notify_all()


@contextlib.contextmanager
def running_demo(*args: str) -> Iterator[Demo]:
    """`python -m exporter demo --fast ARGS` in a session of its own; SIGKILLed if it is still
    there when the block ends (a test that failed midway), with its whole process group."""
    process = subprocess.Popen(
        [sys.executable, "-m", "exporter", "demo", "--fast", *args],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield Demo(process)
    finally:
        if process.poll() is None:
            children = descendants(process.pid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                # Its servers run in sessions of their own: SIGKILL to the group missed them.
                for pid, name in children.items():
                    if alive(pid, name):
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(pid, signal.SIGKILL)
        if process.stdout is not None:
            process.stdout.close()


def descendants(pid: int) -> dict[int, str]:
    """Every process below `pid`, by pid, with its name."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            name = text[text.index("(") + 1 : text.rindex(")")]
            fields = text[text.rindex(")") + 2 :].split()
            child = int(stat.parent.name)
            parents[child], names[child] = int(fields[1]), name
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found[child] = names[child]
                frontier.append(child)
    return found


def alive(pid: int, name: str) -> bool:
    """True while process `pid` named `name` runs (a zombie has exited: it only waits to be
    reaped; another name means the pid went to a new process)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    running = stat[stat.rindex(")") + 2] != "Z"
    return running and stat[stat.index("(") + 1 : stat.rindex(")")] == name
