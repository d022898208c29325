"""The `tls:` blocks: the database probes' (PostgreSQL, Redis), and HTTP's with a server name."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationInfo, field_validator

from exporter.config.types import StrictModel, reads_deployment_files


class ClientTLS(StrictModel):
    """Talk TLS to the server, verifying its certificate against the system CAs or `ca_file`."""

    ca_file: Path | None = None
    insecure_skip_verify: bool = False

    @field_validator("ca_file")
    @classmethod
    def _readable(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is not None and reads_deployment_files(info):
            try:
                value.read_bytes()
            except OSError as err:
                raise ValueError(f"cannot read {value}: {err.strerror}") from None
        return value


class TLSSettings(ClientTLS):
    """TLS for HTTP and TCP probes, whose clients can also set the server name (SNI)."""

    server_name: str | None = None
