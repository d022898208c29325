"""`check --bundle DIR`, the Alertmanager half: the real amtool over alertmanager.yml.

`amtool check-config` parses the config and its templates (it does not open the *_file
secrets). Then every case of tests/routing.yml goes through `amtool config routes test`, one
process per case (about 20 ms each, run side by side), and the receivers it prints are
compared with the expected ones as a set: amtool's own --verify.receivers is order-sensitive.
Last, with the config at hand, routes that no alert of it reaches fail the check.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

import yaml

from exporter.config import Config
from exporter.generate.alertmanager.files import (
    CONFIG_FILE,
    ROUTING_TESTS_FILE,
    repeated_receivers,
    unreachable_routes,
)

AMTOOL_MISSING = (
    "amtool not found on PATH: install the Debian package prometheus-alertmanager "
    "(`make system-deps` does) or put amtool on PATH"
)
CHECK_CONFIG = "amtool check-config"
ROUTES_TEST = "amtool config routes test"
UNREACHABLE = "alertmanager routes reachable"
ONCE = "alertmanager notifies each receiver once"


def check_alertmanager(bundle: Path, out: TextIO, config: Config | None = None) -> list[str]:
    """Run each step and print its outcome; the names of the steps that failed."""
    amtool = shutil.which("amtool")
    if amtool is None:
        print(AMTOOL_MISSING, file=out)
        return ["amtool"]
    config_file = bundle / CONFIG_FILE
    failed = []
    if not _check_config(amtool, config_file, out):
        failed.append(CHECK_CONFIG)
    if not _routes_test(amtool, config_file, bundle / ROUTING_TESTS_FILE, out):
        failed.append(ROUTES_TEST)
    if config is not None and not _reachable(config, out):
        failed.append(UNREACHABLE)
    if config is not None and not _once(config, out):
        failed.append(ONCE)
    return failed


def route_receivers(amtool: str, config_file: Path, labels: dict[str, str]) -> list[str]:
    """The receivers amtool routes `labels` to, in its order; raises on an amtool failure."""
    done = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={config_file}"]
        + [f"{name}={value}" for name, value in sorted(labels.items())],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip() or f"exit {done.returncode}")
    return done.stdout.strip().split(",")


def _check_config(amtool: str, config_file: Path, out: TextIO) -> bool:
    if not config_file.is_file():
        print(f"{CHECK_CONFIG}: FAILED: the bundle has no {CONFIG_FILE}", file=out)
        return False
    done = subprocess.run(
        [amtool, "check-config", str(config_file)], capture_output=True, text=True, check=False
    )
    if done.returncode == 0:
        print(f"{CHECK_CONFIG}: OK", file=out)
        return True
    print(f"{CHECK_CONFIG}: FAILED (exit {done.returncode})", file=out)
    _indent(done.stdout + done.stderr, out)
    return False


def _routes_test(amtool: str, config_file: Path, tests_file: Path, out: TextIO) -> bool:
    cases = _cases(tests_file)
    if not cases or not config_file.is_file():
        print(f"{ROUTES_TEST}: FAILED: no routing cases in {ROUTING_TESTS_FILE}", file=out)
        return False
    with ThreadPoolExecutor(max_workers=min(16, 2 * (os.cpu_count() or 1))) as pool:
        results = list(pool.map(lambda case: _run_case(amtool, config_file, case), cases))
    failures = [line for line in results if line]
    if not failures:
        print(f"{ROUTES_TEST}: OK ({len(cases)} cases)", file=out)
        return True
    print(f"{ROUTES_TEST}: FAILED ({len(failures)} of {len(cases)} cases)", file=out)
    _indent("\n".join(failures), out)
    return False


def _run_case(amtool: str, config_file: Path, case: dict[str, Any]) -> str:
    """ "" when amtool routes the case to its receivers, else what went wrong."""
    labels = {str(k): str(v) for k, v in case["labels"].items()}
    try:
        got = route_receivers(amtool, config_file, labels)
    except RuntimeError as err:
        return f"{case['name']}: amtool failed: {err}"
    expected = sorted(case["receivers"])
    if sorted(set(got)) == expected:
        return ""
    return f"{case['name']}: amtool routes to {_names(got)}; expected {_names(expected)}"


def _cases(tests_file: Path) -> list[dict[str, Any]]:
    try:
        cases = yaml.safe_load(tests_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return []
    return cases if isinstance(cases, list) else []


def _reachable(config: Config, out: TextIO) -> bool:
    return _lint(UNREACHABLE, unreachable_routes(config), "unreachable", out)


def _once(config: Config, out: TextIO) -> bool:
    return _lint(ONCE, repeated_receivers(config), "notified more than once", out)


def _lint(step: str, lines: list[str], what: str, out: TextIO) -> bool:
    if not lines:
        print(f"{step}: OK", file=out)
        return True
    print(f"{step}: FAILED ({len(lines)} {what})", file=out)
    _indent("\n".join(lines), out)
    return False


def _names(names: Sequence[str]) -> str:
    return ", ".join(sorted(set(names))) or "no receiver"


def _indent(text: str, out: TextIO) -> None:
    for line in text.rstrip().splitlines():
        print(f"    {line}", file=out)
