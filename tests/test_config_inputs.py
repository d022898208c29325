"""A reload whose inputs (the config file, the secret and TLS files it names) are unchanged keeps
the running config without parsing; any change to one of them makes it parse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from exporter.config import load_config
from exporter.config.inputs import file_digest, inputs_of, load_with_inputs
from exporter.config.isolated import load_parsed_isolated
from exporter.config.limits import DEFAULT_LIMITS
from exporter.runtime import Runtime

TARGET = """
  - name: {name}
    severity: low
    context: ops
    service: api
    interval: 1h
    http:
      url: "http://127.0.0.1:1/"
      headers: {{Authorization: {{file: {secret}, prefix: "Bearer "}}}}
"""


def write(path: Path, secret: Path, *names: str) -> None:
    path.write_text("targets:" + "".join(TARGET.format(name=n, secret=secret) for n in names))


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The config files parsed by reloads from here on."""
    parsed: list[Path] = []

    def counted(path: Path, *args: Any, **kwargs: Any) -> Any:
        parsed.append(path)
        return load_parsed_isolated(path, *args, **kwargs)

    monkeypatch.setattr("exporter.config.inputs.load_parsed_isolated", counted)
    return parsed


def authorization(runtime: Runtime, name: str) -> str:
    prepared = runtime.scheduler.states[name].plan.probe.plan
    assert prepared is not None
    (header,) = [h for h in prepared.first.headers if h.name == "Authorization"]
    return str(header.value)


async def test_an_unchanged_config_is_kept_without_a_parse_and_a_changed_one_is_parsed(
    tmp_path: Path, parses: list[Path]
) -> None:
    path, secret = tmp_path / "config.yaml", tmp_path / "token"
    secret.write_text("one\n")
    write(path, secret, "login", "logout")
    config, inputs = load_with_inputs(path, DEFAULT_LIMITS, in_process_fallback=False)
    runtime = Runtime(config, path, max_concurrency=10, inputs=inputs)
    parses.clear()
    runtime.start()
    try:
        states = dict(runtime.scheduler.states)
        assert await runtime.reload() is None
        assert parses == []
        assert runtime.reloads["success"] == 1
        assert runtime.scheduler.states == states

        write(path, secret, "login", "signup")
        assert await runtime.reload() is None
        assert len(parses) == 1
        assert sorted(runtime.scheduler.states) == ["login", "signup"]
        assert runtime.scheduler.states["login"] is states["login"]
        assert runtime.config.targets == []  # they run as plans: the parsed ones are freed

        assert await runtime.reload() is None  # unchanged since the parse before
        assert len(parses) == 1
        assert runtime.reloads["success"] == 3
    finally:
        await runtime.stop()


async def test_a_changed_secret_file_makes_a_reload_parse_and_use_it(
    tmp_path: Path, parses: list[Path]
) -> None:
    path, secret = tmp_path / "config.yaml", tmp_path / "token"
    secret.write_text("one\n")
    write(path, secret, "login")
    config, inputs = load_with_inputs(path, DEFAULT_LIMITS, in_process_fallback=False)
    runtime = Runtime(config, path, max_concurrency=10, inputs=inputs)
    parses.clear()
    runtime.start()
    try:
        assert authorization(runtime, "login") == "Bearer one"
        secret.write_text("two\n")
        assert await runtime.reload() is None
        assert len(parses) == 1
        assert authorization(runtime, "login") == "Bearer two"
        secret.unlink()  # an unreadable secret fails the reload, as a parse finds
        assert await runtime.reload() is not None
        assert len(parses) == 2
        assert authorization(runtime, "login") == "Bearer two"
    finally:
        await runtime.stop()


def test_a_secret_file_changed_after_the_parse_leaves_the_inputs_unknown(tmp_path: Path) -> None:
    path, secret = tmp_path / "config.yaml", tmp_path / "token"
    secret.write_text("one\n")
    write(path, secret, "login")
    digest = file_digest(path, DEFAULT_LIMITS.max_size)
    config = load_config(path)
    inputs = inputs_of(digest, config)
    assert inputs is not None
    assert [name for name, _ in inputs.files] == [secret]
    secret.write_text("two\n")  # rotated between the parse's read and the digest
    assert inputs_of(digest, config) is None
    assert not inputs.unchanged(path, DEFAULT_LIMITS)
