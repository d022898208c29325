"""The `tls:` blocks: the database probes' (PostgreSQL, Redis), and HTTP's with a server name.

Field names and version spellings are blackbox_exporter's (Prometheus' common TLS config), so
a module's `tls_config` carries over as it is.
"""

from __future__ import annotations

import functools
import ssl
from pathlib import Path
from typing import Literal

from pydantic import ValidationInfo, field_validator, model_validator

from exporter.config.types import Duration, Severity, StrictModel, reads_deployment_files

TLSVersionName = Literal["TLS10", "TLS11", "TLS12", "TLS13"]
TLS_VERSIONS: dict[str, ssl.TLSVersion] = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}


class ClientTLS(StrictModel):
    """Talk TLS to the server, verifying its certificate against the system CAs or `ca_file`."""

    ca_file: Path | None = None
    insecure_skip_verify: bool = False
    cert_file: Path | None = None  # a client certificate (mTLS), PEM, its chain after it
    key_file: Path | None = None  # its private key, unencrypted; default: in cert_file
    min_version: TLSVersionName | None = None
    max_version: TLSVersionName | None = None

    @field_validator("ca_file", "cert_file", "key_file")
    @classmethod
    def _readable(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is not None and reads_deployment_files(info):
            try:
                value.read_bytes()
            except OSError as err:
                raise ValueError(f"cannot read {value}: {err.strerror}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> ClientTLS:
        if self.key_file is not None and self.cert_file is None:
            raise ValueError("key_file goes with cert_file")
        low, high = self.min_version, self.max_version
        if low is not None and high is not None and TLS_VERSIONS[low] > TLS_VERSIONS[high]:
            raise ValueError(f"min_version {low} is above max_version {high}")
        if self.cert_file is not None and reads_deployment_files(info):
            problem = client_certificate_problem(self.cert_file, self.key_file)
            if problem:
                raise ValueError(problem)
        return self


class TLSSettings(ClientTLS):
    """TLS for HTTP and TCP probes, whose clients can also set the server name (SNI)."""

    server_name: str | None = None


class CertificateExpiry(StrictModel):
    """The generated alert on TLS certificates that expire soon (rules/certificates)."""

    warn_before: Duration = 14 * 86400.0
    severity: Severity = "medium"


def _no_password() -> bytes:
    raise ValueError("the key is encrypted: give an unencrypted key_file")


def load_client_certificate(context: ssl.SSLContext, cert: Path, key: Path | None) -> None:
    """Load a client certificate into `context`; never prompts for a key's password."""
    context.load_cert_chain(cert, key, password=_no_password)


def client_certificate_problem(cert: Path, key: Path | None) -> str:
    """Why `cert` and `key` cannot serve as a client certificate, or "" when they can."""
    try:
        stamps = (cert.stat().st_mtime_ns, key.stat().st_mtime_ns if key else 0)
    except OSError as err:
        return f"cannot read {err.filename}: {err.strerror}"
    return _certificate_problem(cert, key, stamps)


@functools.lru_cache(maxsize=64)
def _certificate_problem(cert: Path, key: Path | None, stamps: tuple[int, int]) -> str:
    # Once per file pair and version: thousands of targets may share one client certificate.
    try:
        load_client_certificate(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), cert, key)
    except ValueError as err:
        return str(err)
    except ssl.SSLError as err:
        if key is None:
            return f"cert_file {cert} holds no PEM certificate and matching key: set key_file"
        why = err.reason or err
        return f"cert_file {cert} and key_file {key} are not a PEM certificate and its key ({why})"
    return ""
