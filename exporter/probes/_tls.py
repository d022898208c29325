"""Client TLS contexts for every kind, made once per set of files and settings, not once per run.

Loading CA certificates and a client key takes milliseconds: a context is kept per CA file,
client certificate and key (each with its modification time, so a renewed file loads again),
verification switch and version bounds, and shared by every target that names the same.
"""

from __future__ import annotations

import functools
import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path

from exporter.config.tls import TLS_VERSIONS, ClientTLS, load_client_certificate
from exporter.conventions import REASON_ERROR
from exporter.probes._run import Failure


class TLSFileError(Exception):
    """A file a `tls:` block names cannot be loaded; the message names the field and file."""


@dataclass(frozen=True, slots=True)
class TLSFiles:
    """A `tls:` block's files and settings, as a run reads them (the block itself is not kept)."""

    insecure_skip_verify: bool
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    min_version: str | None = None
    max_version: str | None = None

    @classmethod
    def of(cls, tls: ClientTLS) -> TLSFiles:
        return cls(
            tls.insecure_skip_verify,
            tls.ca_file,
            tls.cert_file,
            tls.key_file,
            tls.min_version,
            tls.max_version,
        )


@dataclass(frozen=True, slots=True)
class ContextKey:
    """What a context is made of: equal keys share one context."""

    files: TLSFiles
    stamps: tuple[int, int, int] = (0, 0, 0)  # modification times of the three files


def context_for(tls: TLSFiles) -> ssl.SSLContext:
    """The shared context for `tls`; TLSFileError when a file it names cannot be loaded."""
    stamps = tuple(
        _stamp(name, getattr(tls, name)) for name in ("ca_file", "cert_file", "key_file")
    )
    return _cached_context(ContextKey(tls, (stamps[0], stamps[1], stamps[2])))


def client_context(tls: ClientTLS) -> ssl.SSLContext:
    """context_for, failing the run (for the database kinds) when a file cannot be loaded."""
    try:
        return context_for(TLSFiles.of(tls))
    except TLSFileError as err:
        raise Failure(REASON_ERROR, str(err)) from None


def _stamp(field: str, path: Path | None) -> int:
    try:
        return path.stat().st_mtime_ns if path is not None else 0
    except OSError as err:
        raise TLSFileError(f"cannot load tls.{field} {path}: {err.strerror}") from None


@functools.lru_cache(maxsize=64)
def _cached_context(key: ContextKey) -> ssl.SSLContext:
    return tls_context(key)


def _bound_versions(context: ssl.SSLContext, low: str | None, high: str | None) -> None:
    if high is not None:
        context.maximum_version = TLS_VERSIONS[high]
    if low is None:
        return
    if TLS_VERSIONS[low] < ssl.TLSVersion.TLSv1_2:
        # Asked for by name, for a server that has nothing newer: OpenSSL 3 refuses TLS 1.0
        # and 1.1 at its default security level, and Python deprecates them. This context only.
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = TLS_VERSIONS[low]
    else:
        context.minimum_version = TLS_VERSIONS[low]


def tls_context(key: ContextKey) -> ssl.SSLContext:
    """A new client context as `key` says; TLSFileError for a file that does not load."""
    tls = key.files
    if tls.insecure_skip_verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        try:
            context = ssl.create_default_context(cafile=tls.ca_file)
        except (OSError, ssl.SSLError) as err:
            raise TLSFileError(f"cannot load tls.ca_file {tls.ca_file}: {err}") from None
    _bound_versions(context, tls.min_version, tls.max_version)
    if tls.cert_file is not None:
        try:
            load_client_certificate(context, tls.cert_file, tls.key_file)
        except (OSError, ssl.SSLError, ValueError) as err:
            files = f"tls.cert_file {tls.cert_file}" + (
                f" and tls.key_file {tls.key_file}" if tls.key_file else ""
            )
            raise TLSFileError(f"cannot load {files}: {err}") from None
    return context
