"""Config input limits at the command line: size, aliases, encoding, parse time and memory.

The messages of each case are in tests/testdata/config/invalid-*.yaml (test_config.py); here,
what only a real command shows: its exit status, a parse stopped in time, a memory cap.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporter.cli import main
from exporter.config import ConfigError
from exporter.config.isolated import load_config_isolated
from exporter.config.limits import ConfigLimits, format_size, parse_size

TESTDATA = Path(__file__).parent / "testdata" / "config"
ROOT = Path(__file__).parents[1]

TARGET = """
  - name: login_{i}
    severity: critical
    context: revenue_critical
    service: auth
    http: {{url: "http://127.0.0.1:8000/login"}}
"""


def targets(count: int) -> str:
    return "targets:" + "".join(TARGET.format(i=i) for i in range(count))


def per_tenant_copies(tenants: int, description_bytes: int) -> str:
    """A small file whose parse needs much memory: one big target copied for each tenant."""
    names = ", ".join(f"t{i}: {{tier: basic}}" for i in range(tenants))
    description = "{tenant} " + "x" * description_bytes
    return (
        f"tenants: {{{names}}}\ntargets:\n  - name: '{{tenant}}_login'\n    per_tenant: true\n"
        f"    severity: info\n    context: c\n    service: s\n    description: '{description}'\n"
        "    http: {url: 'http://127.0.0.1:1/'}\n"
    )


def exporter(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "exporter", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=timeout)


@contextlib.contextmanager
def fifo(tmp_path: Path, unblock_after: float = 20) -> Iterator[Path]:
    """A config path that blocks its reader, as a hung network mount would.

    Should the parse not be stopped in time, the FIFO is fed a valid config after
    `unblock_after` seconds: the test then fails on its result rather than hang.
    """
    path = tmp_path / "config.yaml"
    os.mkfifo(path)
    done = threading.Event()

    def unblock() -> None:
        if done.wait(unblock_after):
            return
        with contextlib.suppress(OSError):  # ENXIO: nobody is reading any more
            descriptor = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            os.write(descriptor, targets(1).encode())
            os.close(descriptor)

    thread = threading.Thread(target=unblock, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        done.set()
        thread.join()


def test_sizes_read_in_binary_units() -> None:
    assert [parse_size(s) for s in ("512", "1KiB", "16MiB", "2GiB")] == [
        512,
        1024,
        16 << 20,
        2 << 30,
    ]
    assert [format_size(n) for n in (512, 1024, 16 << 20, 2 << 30, 1536)] == [
        "512B",
        "1KiB",
        "16MiB",
        "2GiB",
        "1536B",
    ]
    with pytest.raises(ValueError, match='must be a size such as "16MiB"'):
        parse_size("16MB")


def test_a_config_larger_than_the_size_limit_is_refused_unparsed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(targets(20))
    assert 2048 < path.stat().st_size < 65536
    assert main(["check", "--config", str(path), "--config-max-size", "2KiB"]) == 2
    assert capsys.readouterr().err == (
        f"{path}: invalid config:\n"
        f"the file is larger than 2KiB, the limit (--config-max-size raises it) ({path})\n"
    )
    assert main(["check", "--config", str(path), "--config-max-size", "64KiB"]) == 0


def test_check_refuses_dev_zero_naming_the_byte_and_reading_no_more_than_the_limit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "--config", "/dev/zero"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "/dev/zero: invalid config:",
        "byte 0: character U+0000 is not allowed in YAML (is this a text file?) (/dev/zero:1)",
        "the file is larger than 16MiB, the limit (--config-max-size raises it) (/dev/zero)",
    ]


@pytest.mark.parametrize("command", ["check", "serve"])
def test_an_alias_bomb_is_refused_unexpanded_with_its_line(command: str) -> None:
    bomb = TESTDATA / "invalid-alias-bomb.yaml"
    # Should the alias limit be lost, the memory cap stops the parse with another message.
    done = exporter(command, "--config", str(bomb), "--config-parse-memory", "512MiB")
    assert done.returncode == 2
    assert done.stderr.splitlines()[1] == (
        "targets[0].description[6][0]: by here aliases have added 1,270,459 nodes to the "
        "document, more than the 1,000,000 allowed (*f alone expands to 597,871): refused as "
        f"an alias bomb ({bomb}:13)"
    )


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("empty", "the config is empty: it must list at least one target"),
        ("no-targets", "targets: must list at least one target"),
        ("latin1", "byte 116 (0xe9) is not UTF-8: a config must be UTF-8 text"),
    ],
)
def test_serve_refuses_to_start_on_a_config_that_would_probe_nothing(
    case: str, message: str
) -> None:
    path = TESTDATA / f"invalid-{case}.yaml"
    done = exporter("serve", "--config", str(path), "--listen", "127.0.0.1:0", timeout=30)
    assert done.returncode == 2
    assert done.stderr.startswith(f"{path}: invalid config:\n{message}")


def test_check_stops_a_parse_that_runs_past_the_time_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with fifo(tmp_path) as path:
        code = main(["check", "--config", str(path), "--config-parse-timeout", "1s"])
    assert capsys.readouterr().err == (
        f"{path}: invalid config:\n"
        f"parsing the config took longer than 1s, the limit (--config-parse-timeout raises it) "
        f"({path})\n"
    )
    assert code == 2


def test_the_parser_process_is_stopped_at_the_time_limit(tmp_path: Path) -> None:
    with fifo(tmp_path) as path, pytest.raises(ConfigError, match="took longer than 1s"):
        load_config_isolated(path, ConfigLimits(parse_timeout=1))


def test_check_stops_a_parse_that_needs_more_than_the_memory_cap(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(per_tenant_copies(tenants=200, description_bytes=400_000))  # 400 kB
    capped = exporter("check", "--config", str(path), "--config-parse-memory", "64MiB")
    assert capped.stderr == (
        f"{path}: invalid config:\nparsing the config needed more than 64MiB of memory, the "
        f"limit (--config-parse-memory raises it) ({path})\n"
    )
    assert capped.returncode == 2
    assert exporter("check", "--config", str(path)).stdout == f"{path}: OK, 200 targets\n"


def test_the_parser_process_is_stopped_at_the_memory_cap(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(per_tenant_copies(tenants=200, description_bytes=400_000))
    with pytest.raises(ConfigError, match="needed more than 64MiB of memory"):
        load_config_isolated(path, ConfigLimits(parse_memory=64 << 20))
    assert len(load_config_isolated(path).targets) == 200
