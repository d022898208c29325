"""Client TLS contexts for the database probes, made once per CA file, not once per run."""

from __future__ import annotations

import functools
import ssl
from pathlib import Path

from exporter.config.tls import ClientTLS
from exporter.conventions import REASON_ERROR
from exporter.probes._http_client import tls_context
from exporter.probes._run import Failure


def client_context(tls: ClientTLS) -> ssl.SSLContext:
    """The context for `tls`; a CA file that changed on disk is loaded again."""
    try:
        version = tls.ca_file.stat().st_mtime_ns if tls.ca_file is not None else 0
    except OSError as err:
        raise Failure(REASON_ERROR, f"cannot read tls.ca_file {tls.ca_file}: {err}") from None
    return _cached_context(tls.insecure_skip_verify, tls.ca_file, version)


@functools.lru_cache(maxsize=64)
def _cached_context(insecure: bool, ca_file: Path | None, version: int) -> ssl.SSLContext:
    return tls_context(insecure, ca_file, version)  # loading CAs takes milliseconds: once
