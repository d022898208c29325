"""What `check` costs on a hostile config and on a large one: wall time and peak memory.

    .venv/bin/python bench/config_limits.py [--targets 10000] [--runs 3]

Runs `business-exporter check --config FILE` as a process on: a one-target config (the
interpreter and its imports alone), a nine-level alias bomb (nine anchors of nine aliases
each in a description: 387 million nodes if expanded), and a config of --targets targets
(bench/generate_time.py's builder). For each: the exit status, wall time, and the peak RSS
of the process tree (the kernel's high-water mark), then the parse alone, timed in this
process (load_config, without the interpreter's start and imports). Best of --runs. Prints a
table; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from generate_time import config_text

from exporter.config import ConfigError
from exporter.config.isolated import load_config_bounded

ONE_TARGET = """targets:
  - {name: login, severity: info, context: ops, service: auth, http: {url: "http://h/"}}
"""


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """`levels` anchors in a description, each a list of `width` aliases of the one before."""
    rows = ["    - &l0 [" + ", ".join(['"lol"'] * width) + "]"]
    rows += [f"    - &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]" for i in range(1, levels)]
    return ONE_TARGET + "    description:\n" + "\n".join(rows) + "\n"


# Started by a bare interpreter, whose small memory is all a forked child starts with: the
# kernel's RSS high-water mark counts what a child shares with its parent before exec.
RUNNER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), time.perf_counter() - start, usage.ru_maxrss)
"""


@dataclass
class Run:
    status: int
    seconds: float
    peak_mib: float


def run_check(path: Path) -> Run:
    """One `check`, timed, with its peak RSS: wait4's ru_maxrss, the high-water mark of the
    child and of every descendant it waited for (`check` parses in its own process)."""
    argv = [sys.executable, "-m", "exporter", "check", "--config", str(path)]
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *argv], capture_output=True, text=True, check=True
    )
    status, seconds, maxrss_kib = done.stdout.split()
    return Run(int(status), float(seconds), int(maxrss_kib) / 1024)


def best(path: Path, runs: int) -> Run:
    results = [run_check(path) for _ in range(runs)]
    return min(results, key=lambda r: r.seconds)


def parse_seconds(path: Path, runs: int) -> float:
    """The parse alone, in this process (under the limits, should they be lost)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with contextlib.suppress(ConfigError):
            load_config_bounded(path)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cases = {
        "1 target": ONE_TARGET,
        "alias bomb, 9 levels of 9": alias_bomb(),
        f"{args.targets:,} targets": config_text(args.targets),
    }
    print(f"`business-exporter check --config FILE`, best of {args.runs}")
    print()
    print(f"{'config':<28} {'bytes':>10} {'exit':>5} {'wall':>8} {'peak RSS':>10} {'parse':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for name, text in cases.items():
            path = Path(folder) / "config.yaml"
            path.write_text(text)
            r = best(path, args.runs)
            parse = parse_seconds(path, args.runs)
            print(
                f"{name:<28} {len(text.encode()):>10,} {r.status:>5} {r.seconds:>7.2f}s "
                f"{r.peak_mib:>6.0f} MiB {parse * 1000:>7.1f}ms"
            )


if __name__ == "__main__":
    main()
