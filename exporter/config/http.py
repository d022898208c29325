"""The `http:` probe block, and the request fields other HTTP-speaking kinds share with it."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from exporter.config.tls import TLSSettings
from exporter.config.types import (
    Duration,
    HeaderValue,
    JSONPath,
    ProbeSpec,
    Regex,
    SecretSource,
    StrictModel,
    reveal,
)

_STATUS_CLASS = re.compile(r"^[1-5]xx$")
_METHOD = re.compile(r"^[A-Z]+$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# The probe frames every request itself; a configured value would contradict it.
_FRAMING_HEADERS = frozenset({"content-length", "connection", "transfer-encoding"})


class BasicAuth(StrictModel):
    username: str
    password: SecretSource


class BodyCheck(StrictModel):
    """One assertion on a response body: a regex that must (not) match, or a JSON path."""

    matches: Regex | None = None
    not_matches: Regex | None = None
    json_path: JSONPath | None = None
    equals: Any = None

    @model_validator(mode="after")
    def _one_kind(self) -> BodyCheck:
        kinds = [k for k in ("matches", "not_matches", "json_path") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("needs exactly one of matches, not_matches or json_path")
        if "equals" in self.model_fields_set and self.json_path is None:
            raise ValueError("equals goes with json_path")
        return self


StatusPattern = int | str


class RequestSpec(ProbeSpec):
    """Where an HTTP request goes and how: the fields every HTTP-speaking probe kind shares."""

    url: str
    headers: dict[str, HeaderValue] = Field(default_factory=dict)
    basic_auth: BasicAuth | None = None
    follow_redirects: bool = True
    max_redirects: int = Field(default=10, ge=0)
    tls: TLSSettings = Field(default_factory=TLSSettings)
    max_response_bytes: int = Field(default=1 << 20, gt=0)
    # blackbox_exporter's names. No preference: every address the resolver gives, in its order.
    preferred_ip_protocol: Literal["ip4", "ip6"] | None = None
    ip_protocol_fallback: bool = True
    proxy_url: str | None = None  # http://host:port: forwards http://, tunnels https://
    proxy_basic_auth: BasicAuth | None = None
    no_proxy: list[str] = Field(default_factory=list)  # hosts, .domains and IPs to reach directly

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an absolute http:// or https:// URL, not {value!r}")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not hold credentials: use basic_auth with env or file")
        return value

    @field_validator("proxy_url")
    @classmethod
    def _proxy_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError(f"must be an http://host:port URL of a proxy, not {value!r}")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not hold credentials: use proxy_basic_auth with env or file")
        _ = parts.port  # raises ValueError for a port out of range
        return value

    @field_validator("no_proxy")
    @classmethod
    def _no_proxy(cls, hosts: list[str]) -> list[str]:
        for host in hosts:
            if not host or (any(c in host for c in "/:@ ") and not _is_ip(host)):
                raise ValueError(f"must hold host names, .domains or IPs, not {host!r}")
        return [host.lower() for host in hosts]

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
    def _one_authorization(self) -> RequestSpec:
        if self.basic_auth is not None and any(h.lower() == "authorization" for h in self.headers):
            raise ValueError("takes basic_auth or an Authorization header, not both")
        if self.proxy_url is None and (self.proxy_basic_auth is not None or self.no_proxy):
            raise ValueError("proxy_basic_auth and no_proxy go with proxy_url")
        if any(h.lower() == "proxy-authorization" for h in self.headers):
            raise ValueError("Proxy-Authorization is set from proxy_basic_auth")
        return self


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class HTTPSpec(RequestSpec):
    """An HTTP request and what its response must look like."""

    method: str = "GET"
    body: str | None = None
    json_body: Any = Field(default=None, alias="json")
    valid_status_codes: list[StatusPattern] = Field(
        default_factory=lambda: list[StatusPattern](["2xx"]), min_length=1
    )
    max_duration: Duration | None = None
    body_checks: list[BodyCheck] = Field(default_factory=list)

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

    @model_validator(mode="after")
    def _consistent(self) -> HTTPSpec:
        if self.body is not None and "json_body" in self.model_fields_set:
            raise ValueError("takes body or json, not both")
        try:
            json.dumps(self.json_body)
        except (TypeError, ValueError) as err:
            raise ValueError(f"json cannot be sent as JSON: {err}") from None
        return self

    def status_ok(self, status: int) -> bool:
        return status_matches(self.valid_status_codes, status)


def status_matches(patterns: Iterable[StatusPattern], status: int) -> bool:
    """Whether `status` is one of the codes or classes (`2xx`) of valid_status_codes."""
    return any(status == p if isinstance(p, int) else status // 100 == int(p[0]) for p in patterns)
