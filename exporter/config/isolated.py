"""Loading the config in a short-lived child process, for the long-running exporter.

A parse peaks at about three times what the parsed config then keeps (YAML nodes, raw
data, validated models: some 10 MB per 1,000 targets), and the memory allocators keep much of
such a peak after it is freed. Parsed in a child, the peak goes with the child: the exporter
only receives the compact result, pickled (bench/memory.py: with 10,000 targets the
exporter's peak RSS drops from 153 MB to 89 MB, and its RSS once running stays at 87 MB).

    python -m exporter.config.isolated CONFIG_PATH   # writes the pickled result to stdout
"""

from __future__ import annotations

import logging
import pickle
import subprocess
import sys
from pathlib import Path

from exporter.config.load import ConfigError, load_config
from exporter.config.model import Config
from exporter.yamlsource import Problem

log = logging.getLogger(__name__)


def load_config_isolated(path: str | Path) -> Config:
    """load_config(path), run in a child process; raises ConfigError as load_config does."""
    command = [sys.executable, "-m", __name__, str(path)]
    try:
        child = subprocess.run(command, capture_output=True, check=False)
    except OSError as err:  # no process to spare: the peak is better than no config
        log.warning("cannot start a process to parse the config (%s); parsing it here", err)
        return load_config(path)
    if child.returncode != 0:
        last = (child.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        problem = f"the config parser process failed (exit status {child.returncode}): {last}"
        raise ConfigError([Problem("", problem)], str(path))
    result: Config | ConfigError = pickle.loads(child.stdout)  # our own child's output
    if isinstance(result, ConfigError):
        raise result
    return result


def main(argv: list[str]) -> int:
    try:
        result: Config | ConfigError = load_config(argv[0])
    except ConfigError as err:
        result = err
    sys.stdout.buffer.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
