"""The config file: strict typed models, `parse_config(text)` and `load_config(path)`."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    SecretStr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from exporter import yamlsource
from exporter.conventions import RESERVED_LABELS
from exporter.yamlsource import Problem

_DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
_DURATION_UNITS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)
_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_STATUS_CLASS = re.compile(r"^[1-5]xx$")
_METHOD = re.compile(r"^[A-Z]+$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# The probe frames every request itself; a configured value would contradict it.
_FRAMING_HEADERS = frozenset({"content-length", "connection", "transfer-encoding"})


class ConfigError(Exception):
    """A config that cannot be used, with every problem found in it."""

    def __init__(self, problems: list[Problem], source: str = "<config>") -> None:
        self.problems = problems
        self.source = source
        super().__init__("\n".join(p.render(source) for p in problems))


def parse_duration(value: object) -> float:
    """Parse a Prometheus duration such as `30s`, `1m30s` or `250ms` into seconds."""
    match = _DURATION.match(value) if isinstance(value, str) and value else None
    if match is None:
        raise ValueError(f'must be a duration such as "30s", "5m" or "250ms", not {value!r}')
    return sum(int(n) * unit for n, unit in zip(match.groups(), _DURATION_UNITS, strict=True) if n)


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


Duration = Annotated[float, BeforeValidator(_positive_duration)]
Regex = Annotated[re.Pattern[str], BeforeValidator(_regex)]
Name = Annotated[str, BeforeValidator(_name)]
Severity = Literal["emergency", "critical", "high", "medium", "low", "info"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False)


class SecretSource(_Strict):
    """A secret read from an environment variable or a file when the config is loaded."""

    env: str | None = None
    file: Path | None = None
    prefix: str = ""
    _value: SecretStr = PrivateAttr(default=SecretStr(""))

    @model_validator(mode="after")
    def _resolve(self) -> SecretSource:
        if (self.env is None) == (self.file is None):
            raise ValueError("needs exactly one of env or file")
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


class BasicAuth(_Strict):
    username: str
    password: SecretSource


class TLSSettings(_Strict):
    insecure_skip_verify: bool = False
    ca_file: Path | None = None
    server_name: str | None = None

    @field_validator("ca_file")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                value.read_bytes()
            except OSError as err:
                raise ValueError(f"cannot read {value}: {err.strerror}") from None
        return value


class BodyCheck(_Strict):
    """One assertion on a response body: a regex that must (not) match, or a JSON path."""

    matches: Regex | None = None
    not_matches: Regex | None = None
    json_path: str | None = None
    equals: Any = None

    @model_validator(mode="after")
    def _one_kind(self) -> BodyCheck:
        kinds = [k for k in ("matches", "not_matches", "json_path") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("needs exactly one of matches, not_matches or json_path")
        if "equals" in self.model_fields_set and self.json_path is None:
            raise ValueError("equals goes with json_path")
        return self

    @field_validator("json_path")
    @classmethod
    def _json_path(cls, value: str | None) -> str | None:
        from exporter.jsonpath import compile_path

        if value is not None:
            compile_path(value)
        return value


StatusPattern = int | str


class HTTPSpec(_Strict):
    """An HTTP request and what its response must look like."""

    url: str
    method: str = "GET"
    headers: dict[str, HeaderValue] = Field(default_factory=dict)
    basic_auth: BasicAuth | None = None
    body: str | None = None
    json_body: Any = Field(default=None, alias="json")
    valid_status_codes: list[StatusPattern] = Field(
        default_factory=lambda: list[StatusPattern](["2xx"]), min_length=1
    )
    max_duration: Duration | None = None
    follow_redirects: bool = True
    max_redirects: int = Field(default=10, ge=0)
    tls: TLSSettings = Field(default_factory=TLSSettings)
    max_response_bytes: int = Field(default=1 << 20, gt=0)
    body_checks: list[BodyCheck] = Field(default_factory=list)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an absolute http:// or https:// URL, not {value!r}")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not hold credentials: use basic_auth with env or file")
        return value

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        if not _METHOD.match(value.upper()):
            raise ValueError(f"must be an HTTP method such as GET or POST, not {value!r}")
        return value.upper()

    @field_validator("valid_status_codes")
    @classmethod
    def _statuses(cls, values: list[StatusPattern]) -> list[StatusPattern]:
        for value in values:
            ok = (isinstance(value, int) and 100 <= value <= 599) or (
                isinstance(value, str) and _STATUS_CLASS.match(value)
            )
            if not ok:
                raise ValueError(
                    f"must hold status codes (100-599) or classes like 4xx, not {value!r}"
                )
        return values

    @field_validator("headers")
    @classmethod
    def _headers(cls, headers: dict[str, str | SecretSource]) -> dict[str, str | SecretSource]:
        for name, value in headers.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid header name")
            if name.lower() in _FRAMING_HEADERS:
                raise ValueError(f"{name} is set by the probe itself")
            if any(c in reveal(value) for c in "\r\n"):
                raise ValueError(f"the value of {name} must not hold a line break")
        return headers

    @model_validator(mode="after")
    def _consistent(self) -> HTTPSpec:
        if self.body is not None and "json_body" in self.model_fields_set:
            raise ValueError("takes body or json, not both")
        if self.basic_auth is not None and any(h.lower() == "authorization" for h in self.headers):
            raise ValueError("takes basic_auth or an Authorization header, not both")
        try:
            json.dumps(self.json_body)
        except (TypeError, ValueError) as err:
            raise ValueError(f"json cannot be sent as JSON: {err}") from None
        return self

    def status_ok(self, status: int) -> bool:
        return any(
            status == p if isinstance(p, int) else status // 100 == int(p[0])
            for p in self.valid_status_codes
        )


class RevenueAtRisk(_Strict):
    amount: float = Field(ge=0)
    currency: str = "GBP"

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.match(r"^[A-Z]{3}$", value):
            raise ValueError(f"must be an ISO 4217 code such as GBP, not {value!r}")
        return value


def _labels(value: Any) -> Any:
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str) or not _NAME.match(key) or key.startswith("__"):
                raise ValueError(f"{key!r} is not a valid Prometheus label name")
            if key in RESERVED_LABELS:
                raise ValueError(f"{key!r} is reserved for the exporter's own labels")
    return value


Labels = Annotated[dict[str, str], BeforeValidator(_labels)]

# Fields a target takes from `defaults:` when it does not set them itself.
INHERITED = ("interval", "timeout", "failure_threshold", "success_threshold", "tenant", "tier")
KINDS = ("http",)


class Defaults(_Strict):
    interval: Duration = 30.0
    timeout: Duration = 10.0
    failure_threshold: int = Field(default=2, ge=1)
    success_threshold: int = Field(default=2, ge=1)
    tenant: str = ""
    tier: str = ""
    labels: Labels = Field(default_factory=dict)


class Target(_Strict):
    """One business-critical check: what to probe, how often, and what it means to the business."""

    name: Name
    description: str = ""
    runbook_url: str = ""
    severity: Severity
    context: Name
    service: str = Field(min_length=1)
    tenant: str = ""
    tier: str = ""
    labels: Labels = Field(default_factory=dict)
    revenue_at_risk: RevenueAtRisk | None = None
    interval: Duration = 30.0
    timeout: Duration = 10.0
    failure_threshold: int = Field(default=2, ge=1)
    success_threshold: int = Field(default=2, ge=1)
    http: HTTPSpec | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Target:
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"needs exactly one probe block, one of: {', '.join(KINDS)}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)

    @property
    def spec(self) -> Any:
        return getattr(self, self.kind)

    def static_labels(self) -> dict[str, str]:
        """The label set every series of this target carries, in exposition order."""
        return {
            "probe": self.name,
            "kind": self.kind,
            "severity": self.severity,
            "context": self.context,
            "tenant": self.tenant,
            "tier": self.tier,
            "service": self.service,
            **dict(sorted(self.labels.items())),
        }


class Config(_Strict):
    defaults: Defaults = Field(default_factory=Defaults)
    targets: list[Target] = Field(default_factory=list)

    @model_validator(mode="after")
    def _inherit_defaults(self) -> Config:
        for target in self.targets:
            for field in INHERITED:
                if field not in target.model_fields_set:
                    setattr(target, field, getattr(self.defaults, field))
            target.labels = {**self.defaults.labels, **target.labels}
        return self

    def target(self, name: str) -> Target | None:
        return next((t for t in self.targets if t.name == name), None)


def parse_config(text: str, source: str = "<config>") -> Config:
    """Parse and validate config text; raise ConfigError listing every problem."""
    doc = yamlsource.load(text)
    problems = list(doc.problems)
    if problems and doc.data is None:
        raise ConfigError(problems, source)
    data = {} if doc.data is None else doc.data
    problems += _duplicate_names(data, doc)
    try:
        config = Config.model_validate(data)
    except ValidationError as err:
        problems += _from_pydantic(err, doc)
        raise ConfigError(_by_line(problems), source) from None
    problems += _semantic_problems(config, doc)
    if problems:
        raise ConfigError(_by_line(problems), source)
    return config


def load_config(path: str | Path) -> Config:
    """Read and parse a config file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError([Problem("", f"cannot read config: {err.strerror}")], str(path)) from None
    return parse_config(text, str(path))


def _by_line(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.line or 0)


def _duplicate_names(data: Any, doc: yamlsource.Document) -> list[Problem]:
    targets = data.get("targets") if isinstance(data, dict) else None
    if not isinstance(targets, list):
        return []
    first: dict[str, int] = {}
    problems = []
    for i, target in enumerate(targets):
        name = target.get("name") if isinstance(target, dict) else None
        if not isinstance(name, str):
            continue
        path = ("targets", i, "name")
        if name in first:
            problems.append(
                Problem(
                    yamlsource.format_path(path),
                    f'duplicate target name "{name}" (also targets[{first[name]}])',
                    doc.line_of(path),
                )
            )
        else:
            first[name] = i
    return problems


def _semantic_problems(config: Config, doc: yamlsource.Document) -> list[Problem]:
    problems = []
    for i, target in enumerate(config.targets):
        if target.timeout > target.interval:
            field = "timeout" if "timeout" in target.model_fields_set else "interval"
            path = ("targets", i, field)
            problems.append(
                Problem(
                    yamlsource.format_path(path),
                    f"timeout ({format_duration(target.timeout)}) must not exceed "
                    f"interval ({format_duration(target.interval)})",
                    doc.line_of(path),
                )
            )
    return problems


def _from_pydantic(err: ValidationError, doc: yamlsource.Document) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for error in err.errors():
        path = _data_path(doc.data, error["loc"], error["type"])
        message = _message(error)
        key = (yamlsource.format_path(path), message)
        if key not in seen:
            seen.add(key)
            problems.append(Problem(key[0], message, doc.line_of(path)))
    return problems


def _data_path(data: Any, loc: tuple[str | int, ...], kind: str) -> yamlsource.Path:
    """Follow pydantic's loc through the data, dropping union tags and validator names."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif not (last and kind in ("missing", "extra_forbidden")):
            continue
        path.append(part)
    return tuple(path)


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "unknown field",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
}


def _message(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "literal_error":
        return f"must be one of: {ctx['expected'].replace(' or ', ', ')}".replace("'", "")
    if kind == "greater_than":
        return f"must be greater than {ctx['gt']}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}"
    if kind == "too_short":
        return f"must have at least {ctx['min_length']} item(s)"
    if kind == "string_too_short":
        return "must not be empty"
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    msg: str = error["msg"]
    return msg[:1].lower() + msg[1:]
