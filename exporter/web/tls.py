"""The server's TLS context from a web config's tls_server_config."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from exporter.web.config import TLSServerConfig

VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
# Go's client-auth policies that verify what they accept; Python's ssl has no
# "request but do not verify", and the toolkit itself calls those two insecure.
CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}

Report = Callable[[str, str], None]


def server_context(config: TLSServerConfig, directory: Path, report: Report) -> ssl.SSLContext:
    """A server context for `config`; each problem goes to report(key, message)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _versions(context, config, report)
    _certificate(context, config, directory, report)
    _client_auth(context, config, directory, report)
    if config.prefer_server_cipher_suites:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    return context


def _versions(context: ssl.SSLContext, config: TLSServerConfig, report: Report) -> None:
    low, high = VERSIONS[config.min_version], VERSIONS[config.max_version]
    if low > high:
        report("min_version", f"{config.min_version} is above max_version {config.max_version}")
        return
    context.minimum_version, context.maximum_version = low, high


def _certificate(
    context: ssl.SSLContext, config: TLSServerConfig, directory: Path, report: Report
) -> None:
    missing = [name for name in ("cert_file", "key_file") if not getattr(config, name)]
    for name in missing:
        report(name, "required with tls_server_config")
    if missing:
        return
    cert, key = _file(directory, config.cert_file), _file(directory, config.key_file)
    for name, path in (("cert_file", cert), ("key_file", key)):
        if not path.is_file():
            report(name, f"no such file: {path}")
            return
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as err:
        report("", f"cannot load cert_file {cert} with key_file {key}: {_reason(err)}")


def _client_auth(
    context: ssl.SSLContext, config: TLSServerConfig, directory: Path, report: Report
) -> None:
    policy = config.client_auth_type
    if policy not in CLIENT_AUTH:
        report(
            "client_auth_type",
            f"{policy} accepts client certificates it does not verify: not supported, "
            "use RequireAndVerifyClientCert (or VerifyClientCertIfGiven)",
        )
        return
    if policy == "NoClientCert":
        if config.client_ca_file:
            report("client_ca_file", f"set, but client_auth_type is {policy}: nothing checks it")
        return
    if not config.client_ca_file:
        report("client_ca_file", f"required with client_auth_type {policy}")
        return
    ca = _file(directory, config.client_ca_file)
    try:
        context.load_verify_locations(cafile=ca)
    except (ssl.SSLError, OSError) as err:
        report("client_ca_file", f"cannot load {ca}: {_reason(err)}")
        return
    context.verify_mode = CLIENT_AUTH[policy]


def _file(directory: Path, name: str | None) -> Path:
    return directory / (name or "")  # an absolute name stays as it is


_REASONS = {
    "KEY_VALUES_MISMATCH": "the key is not the certificate's",
    "NO_CERTIFICATE_OR_CRL_FOUND": "no PEM certificate in it",
}


def _reason(err: ssl.SSLError | OSError) -> str:
    if isinstance(err, ssl.SSLError):
        return _REASONS.get(str(err.reason), "not a PEM certificate and key that OpenSSL reads")
    return err.strerror or str(err)
