"""Value types shared by the config models: durations, names, regexes and secrets."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    PrivateAttr,
    SecretStr,
    Tag,
    ValidationInfo,
    model_validator,
)

from exporter.conventions import RESERVED_LABELS
from exporter.jsonpath import compile_path

_DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
_DURATION_UNITS_MS = (365 * 86400_000, 7 * 86400_000, 86400_000, 3600_000, 60_000, 1000, 1)
# Prometheus' own bound: a duration is a signed 64-bit count of nanoseconds.
_MAX_DURATION_MS = (2**63 - 1) // 1_000_000
# A target probed less often than daily is not watched; one that said `99999999999h`
# would never run at all.
MAX_INTERVAL, MAX_INTERVAL_TEXT = 86400.0, "24h"
_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def parse_duration(value: object) -> float:
    """Parse a Prometheus duration such as `30s`, `1m30s` or `250ms` into seconds."""
    ms = _duration_ms(value)
    if ms > _MAX_DURATION_MS:
        raise ValueError(f"must be a duration of at most 292 years, not {value!r}")
    return ms / 1000


def _duration_ms(value: object) -> int:
    match = _DURATION.match(value) if isinstance(value, str) and value else None
    if match is None:
        raise ValueError(f'must be a duration such as "30s", "5m" or "250ms", not {value!r}')
    groups = zip(match.groups(), _DURATION_UNITS_MS, strict=True)
    return sum(int(n) * unit for n, unit in groups if n)


def format_duration(seconds: float) -> str:
    """Seconds back to the shortest Prometheus duration that says the same."""
    ms = round(seconds * 1000)
    if ms % 1000:
        return f"{ms}ms"
    out, rest = "", ms // 1000
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out += f"{rest // size}{unit}"
            rest %= size
    return out or "0s"


def _positive_duration(value: object) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError("must be greater than 0")
    return seconds


def _name(value: object) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(
            f"must start with a letter or underscore and hold only letters, digits and "
            f"underscores, not {value!r}"
        )
    return value


def _regex(value: object) -> re.Pattern[str]:
    if not isinstance(value, str):
        raise ValueError("must be a regular expression in a string")
    try:
        return re.compile(value)
    except re.error as err:
        raise ValueError(f"is not a valid regular expression: {err}") from None


def _interval(value: object) -> float:
    if _duration_ms(value) > MAX_INTERVAL * 1000:
        raise ValueError(f"must be at most {MAX_INTERVAL_TEXT}, not {value}")
    return _positive_duration(value)


Duration = Annotated[float, BeforeValidator(_positive_duration)]
Interval = Annotated[float, BeforeValidator(_interval)]


def _json_path(value: str) -> str:
    compile_path(value)
    return value


Regex = Annotated[re.Pattern[str], BeforeValidator(_regex)]
JSONPath = Annotated[str, AfterValidator(_json_path)]
Name = Annotated[str, BeforeValidator(_name)]
Severity = Literal["emergency", "critical", "high", "medium", "low", "info"]


class StrictModel(BaseModel):
    """Base of every config model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)


class ProbeSpec(StrictModel):
    """Base of every probe kind's block (`http:`, `steps:`, `postgres:`...)."""

    def step_names(self) -> list[str]:
        """The `step` label of each phase a run reports, in order; none for one-shot kinds."""
        return []


def reads_deployment_files(info: ValidationInfo) -> bool:
    """Whether this load resolves secrets and opens CA files: `serve` does, `generate` need not."""
    return not (info.context or {}).get("offline", False)


class SecretSource(StrictModel):
    """A secret read from an environment variable or a file when the config is loaded."""

    env: str | None = None
    file: Path | None = None
    prefix: str = ""
    _value: SecretStr = PrivateAttr(default=SecretStr(""))

    @model_validator(mode="after")
    def _resolve(self, info: ValidationInfo) -> SecretSource:
        if (self.env is None) == (self.file is None):
            raise ValueError("needs exactly one of env or file")
        if not reads_deployment_files(info):
            return self
        if self.env is not None:
            raw = os.environ.get(self.env)
            if raw is None:
                raise ValueError(f"environment variable {self.env} is not set")
        else:
            assert self.file is not None
            try:
                raw = self.file.read_text().strip()
            except OSError as err:
                raise ValueError(f"cannot read {self.file}: {err.strerror}") from None
        self._value = SecretStr(self.prefix + raw)
        return self

    def reveal(self) -> str:
        return self._value.get_secret_value()


def _secret_or_plain(value: Any) -> str:
    return "plain" if isinstance(value, str) else "secret"


HeaderValue = Annotated[
    Annotated[str, Tag("plain")] | Annotated[SecretSource, Tag("secret")],
    Discriminator(_secret_or_plain),
]


def reveal(value: str | SecretSource) -> str:
    """The value to send: plain text as is, a secret resolved."""
    return value if isinstance(value, str) else value.reveal()


def _labels(value: Any) -> Any:
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str) or not _NAME.match(key) or key.startswith("__"):
                raise ValueError(f"{key!r} is not a valid Prometheus label name")
            if key in RESERVED_LABELS:
                raise ValueError(f"{key!r} is reserved for the exporter's own labels")
    return value


Labels = Annotated[dict[str, str], BeforeValidator(_labels)]
