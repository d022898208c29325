from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest

from exporter.config import Config, HTTPSpec, Target, load, parse_config
from exporter.config.compact import compact

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.yaml"))

THREE_TARGETS = """
defaults: {labels: {team: identity}}
targets:
  - {name: login, severity: critical, context: revenue, service: auth, tenant: acme,
     http: {url: "http://127.0.0.1:8000/login"}}
  - {name: logout, severity: critical, context: revenue, service: auth, tenant: acme,
     http: {url: "http://127.0.0.1:8000/logout"}}
  - {name: health, severity: info, context: revenue, service: auth, interval: 10s,
     http: {url: "http://127.0.0.1:8000/health", tls: {server_name: api.example.com}}}
"""


def http_targets(text: str) -> list[Target]:
    targets = parse_config(text).targets
    assert all(t.http is not None for t in targets)
    return targets


def http_specs(targets: list[Target]) -> list[HTTPSpec]:
    return [t.http for t in targets if t.http is not None]


def test_targets_of_one_file_share_their_equal_settings_strings_and_defaults() -> None:
    login, logout, health = targets = http_targets(THREE_TARGETS)
    login_http, logout_http, health_http = http_specs(targets)
    assert login_http.tls is logout_http.tls
    assert health_http.tls is not login_http.tls
    assert health_http.tls.server_name == "api.example.com"
    assert login_http.valid_status_codes is logout_http.valid_status_codes
    assert login_http.headers is logout_http.headers
    assert login.labels is logout.labels is health.labels
    assert login.service is logout.service
    assert login.tenant is logout.tenant


def test_models_that_set_the_same_fields_share_one_fields_set() -> None:
    login, logout, health = http_targets(THREE_TARGETS)
    assert login.model_fields_set is logout.model_fields_set
    assert "interval" in health.model_fields_set
    assert "interval" not in login.model_fields_set
    assert login.model_dump(exclude_unset=True)["http"] == {"url": "http://127.0.0.1:8000/login"}


def test_assigning_to_a_parsed_model_marks_the_field_as_set_in_that_model_only() -> None:
    login, logout, _ = http_targets(THREE_TARGETS)
    login.timeout = 1.0
    assert (login.timeout, logout.timeout) == (1.0, 10.0)
    assert "timeout" in login.model_fields_set
    assert "timeout" not in logout.model_fields_set


def test_a_shared_fields_set_refuses_changes_that_would_reach_every_model_sharing_it() -> None:
    login, logout, _ = http_targets(THREE_TARGETS)
    with pytest.raises(TypeError, match="share their fields sets"):
        login.model_fields_set.add("timeout")
    assert "timeout" not in logout.model_fields_set


def test_a_changed_copy_of_a_parsed_model_gets_a_fields_set_of_its_own() -> None:
    login, logout, _ = http_targets(THREE_TARGETS)
    changed = login.model_copy(update={"timeout": 0.2})
    changed.failure_threshold = 5
    assert {"timeout", "failure_threshold"} <= changed.model_fields_set
    assert "timeout" not in login.model_fields_set | logout.model_fields_set
    deep = copy.deepcopy(logout)
    deep.timeout = 0.3
    assert "timeout" in deep.model_fields_set


# In a fresh interpreter: its first config, as the exporter's, is a large one (see
# share_attribute_keys in exporter/config/compact.py).
FIRST_LARGE_CONFIG = """
import sys
from exporter.config import parse_config
target = "{name: t%d, severity: info, context: c, service: s, http: {url: 'http://h/'}}"
config = parse_config("targets:\\n" + "\\n".join("  - " + target % i for i in range(100)))
print(max(sys.getsizeof(t.__dict__) / sys.getsizeof(dict(t.__dict__)) for t in config.targets))
"""


def test_parsed_attributes_take_less_room_than_a_dict_of_their_own() -> None:
    run = subprocess.run(
        [sys.executable, "-c", FIRST_LARGE_CONFIG], capture_output=True, text=True, check=True
    )
    assert float(run.stdout) < 0.5


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_compacting_keeps_every_value_and_what_the_file_set(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = path.read_text()
    compacted = parse_config(text, offline=True)
    monkeypatch.setattr(load, "compact", lambda config: config)
    validated: Config = parse_config(text, offline=True)
    assert compacted == validated
    assert compacted.model_dump(exclude_unset=True) == validated.model_dump(exclude_unset=True)
    assert repr(compacted) == repr(validated)


def test_kept_strings_and_numbers_are_copies_made_after_the_parse_peak(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    validated: list[Config] = []

    def compact_seen(config: Config) -> Config:
        validated.append(config)
        return compact(config)

    monkeypatch.setattr(load, "compact", compact_seen)
    parsed = parse_config(THREE_TARGETS)
    login, kept = validated[0].targets[0], parsed.targets[0]
    assert login.http is not None
    assert kept.http is not None
    pairs = [(kept.name, login.name), (kept.interval, login.interval)]
    pairs.append((kept.http.url, login.http.url))
    assert all(ours == theirs and ours is not theirs for ours, theirs in pairs)
