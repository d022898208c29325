"""Loading the config in a short-lived child process, for the long-running exporter.

A parse peaks at about three times what the parsed config then keeps (YAML nodes, raw
data, validated models: some 10 MB per 1,000 targets), and the memory allocators keep much of
such a peak after it is freed. Parsed in a child, the peak goes with the child: the exporter
only receives the result, pickled, each target on its own (config/parsed.py), and compiles
its targets into plans (bench/memory.py: with 10,000 targets the exporter's peak RSS dropped
from 153 MB to 89 MB when this was added).
The child is also where the parse's limits hold without touching the exporter: it caps its
own address space, and the parent kills it at the time limit.

    python -m exporter.config.isolated [--max-size N --memory N] CONFIG_PATH
    # writes the pickled result to stdout
"""

from __future__ import annotations

import argparse
import logging
import pickle
import subprocess
import sys
from pathlib import Path

from exporter.config.limits import (
    DEFAULT_LIMITS,
    ConfigLimits,
    ParseTimeout,
    bounded,
    cap_address_space,
)
from exporter.config.load import ConfigError, load_config
from exporter.config.model import Config
from exporter.config.parsed import Parsed
from exporter.yamlsource import Problem

log = logging.getLogger(__name__)

_OUT_OF_MEMORY = 3  # the child's exit status when the parse hit its memory cap
_RUST_OUT_OF_MEMORY = "memory allocation of"  # pydantic-core aborts with this on stderr


def load_config_isolated(
    path: str | Path, limits: ConfigLimits = DEFAULT_LIMITS, *, in_process_fallback: bool = True
) -> Config:
    """load_config(path), run in a child process; raises ConfigError as load_config does.

    in_process_fallback: without a process to spare, parse here under bounded(). Only for a
    process's main thread before it runs anything else: never for a reload.
    """
    return load_parsed_isolated(path, limits, in_process_fallback=in_process_fallback).whole()


def load_parsed_isolated(
    path: str | Path, limits: ConfigLimits = DEFAULT_LIMITS, *, in_process_fallback: bool = True
) -> Parsed:
    """load_config_isolated, its targets left pickled one by one (see config/parsed.py)."""
    command = [sys.executable, "-m", __name__, *_arguments(limits), str(path)]
    try:
        child = subprocess.run(
            command, capture_output=True, check=False, timeout=limits.parse_timeout
        )
    except subprocess.TimeoutExpired:  # run() has killed the child
        raise ConfigError([limits.timeout_problem()], str(path)) from None
    except OSError as err:
        if not in_process_fallback:
            problem = f"cannot start a process to parse the config: {err}"
            raise ConfigError([Problem("", problem)], str(path)) from None
        log.warning("cannot start a process to parse the config (%s); parsing it here", err)
        return Parsed.of(load_config_bounded(path, limits))
    stderr = child.stderr.decode(errors="replace")
    if child.returncode == _OUT_OF_MEMORY or _RUST_OUT_OF_MEMORY in stderr:
        raise ConfigError([limits.memory_problem()], str(path))
    if child.returncode != 0:
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        problem = f"the config parser process failed (exit status {child.returncode}): {last}"
        raise ConfigError([Problem("", problem)], str(path))
    result: Parsed | ConfigError = pickle.loads(child.stdout)  # our own child's output
    if isinstance(result, ConfigError):
        raise result
    return result


def load_config_bounded(
    path: str | Path,
    limits: ConfigLimits = DEFAULT_LIMITS,
    *,
    offline: bool = False,
    only_target: str | None = None,
) -> Config:
    """load_config(path) in this process, under the limits' time and memory (see bounded)."""
    try:
        with bounded(limits):
            return load_config(path, offline=offline, only_target=only_target, limits=limits)
    except ParseTimeout:
        raise ConfigError([limits.timeout_problem()], str(path)) from None
    except MemoryError:
        raise ConfigError([limits.memory_problem()], str(path)) from None


def _arguments(limits: ConfigLimits) -> list[str]:
    return ["--max-size", str(limits.max_size), "--memory", str(limits.parse_memory)]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {__name__}")
    parser.add_argument("--max-size", type=int, default=DEFAULT_LIMITS.max_size)
    parser.add_argument("--memory", type=int, default=DEFAULT_LIMITS.parse_memory)
    parser.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    cap_address_space(args.memory)
    try:
        result: Parsed | ConfigError = Parsed.of(
            load_config(args.path, limits=ConfigLimits(max_size=args.max_size))
        )
    except ConfigError as err:
        result = err
    sys.stdout.buffer.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except MemoryError:  # with no room left, a traceback might not print
        sys.exit(_OUT_OF_MEMORY)
