from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from exporter import yamlsource
from exporter.config import ConfigError, load_config
from exporter.config.isolated import load_config_isolated

EXAMPLES = Path(__file__).parent.parent / "examples"

TWO_TARGETS = """
targets:
  - {name: login, severity: critical, context: revenue, service: auth,
     http: {url: "http://127.0.0.1:8000/login"}}
  - {name: logout, severity: critical, context: revenue, service: auth,
     http: {url: "http://127.0.0.1:8000/logout"}}
"""


def refuse_to_parse_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str) -> None:
        raise AssertionError("parsed in the exporter's own process")

    monkeypatch.setattr(yamlsource, "load", refuse)


def test_the_config_is_parsed_in_a_child_and_arrives_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(TWO_TARGETS)
    expected = load_config(path)
    refuse_to_parse_here(monkeypatch)
    config = load_config_isolated(path)
    assert config == expected
    assert [t.model_fields_set for t in config.targets] == [
        t.model_fields_set for t in expected.targets
    ]


def test_the_reference_config_survives_the_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    for secret in ("MARKETEDGE_DB_PASSWORD", "MARKETEDGE_REDIS_PASSWORD", "ZEBRA_DEMO_PASSWORD"):
        monkeypatch.setenv(secret, f"not-the-real-{secret.lower()}")
    path = EXAMPLES / "marketedge.yaml"
    expected = load_config(path)
    config = load_config_isolated(path)
    assert config == expected
    assert config.model_dump(exclude_unset=True) == expected.model_dump(exclude_unset=True)


def test_an_invalid_config_raises_the_same_problems_with_their_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(TWO_TARGETS.replace("severity: critical", "severity: urgent", 1))
    with pytest.raises(ConfigError) as here:
        load_config(path)
    refuse_to_parse_here(monkeypatch)
    with pytest.raises(ConfigError) as there:
        load_config_isolated(path)
    assert there.value.problems == here.value.problems
    assert str(there.value) == str(here.value)
    assert "config.yaml:3)" in str(there.value)


def test_a_parser_process_that_fails_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(TWO_TARGETS)
    monkeypatch.setattr(sys, "executable", "/bin/false")
    with pytest.raises(ConfigError, match=r"the config parser process failed \(exit status 1\)"):
        load_config_isolated(path)


def test_without_a_process_to_spare_the_config_is_parsed_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(TWO_TARGETS)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    with caplog.at_level(logging.WARNING):
        config = load_config_isolated(path)
    assert [t.name for t in config.targets] == ["login", "logout"]
    assert "cannot start a process to parse the config" in caplog.text
