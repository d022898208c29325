"""The `tcp:` probe block: a dependency that must accept connections, optionally over TLS."""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator

from exporter.config.tls import TLSSettings
from exporter.config.types import ProbeSpec


class TCPSpec(ProbeSpec):
    """Connect to host:port; with a `tls:` block (even `{}`), complete a verified handshake."""

    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    tls: TLSSettings | None = None

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if any(c in value for c in "/: ") and not _ipv6(value):
            raise ValueError(f"must be a host name or IP address without scheme or port: {value!r}")
        return value


def _ipv6(value: str) -> bool:
    try:
        return ipaddress.ip_address(value).version == 6
    except ValueError:
        return False
