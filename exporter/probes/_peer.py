"""What a TLS server presented: its protocol version and the earliest expiry in its chain.

Python 3.11's public API gives only the leaf certificate, and only once it is verified
(`getpeercert()`); the chain the server sent is public from 3.13 (`get_unverified_chain()`).
The C methods behind that have been on the SSL object since 3.10: they are read here, as
3.13's own wrapper reads them, so the expiry is the earliest of every certificate the server
presented, as blackbox_exporter's `probe_ssl_earliest_cert_expiry` is. Where they are missing
(another Python), it falls back to the verified leaf alone.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

# Bounded on purpose: these become label values.
_VERSIONS = {"TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1", "TLSv1.2": "TLS 1.2", "TLSv1.3": "TLS 1.3"}


def tls_version_name(tls: ssl.SSLObject) -> str:
    """The negotiated version as blackbox_exporter labels it ("TLS 1.3"), "other" for any other."""
    return _VERSIONS.get(tls.version() or "", "other")


def earliest_expiry(tls: ssl.SSLObject) -> float | None:
    """The earliest notAfter (Unix time) among the certificates the server presented."""
    chain = getattr(getattr(tls, "_sslobj", None), "get_unverified_chain", None)
    if chain is None:
        leaf = tls.getpeercert()
        return _not_after([leaf]) if leaf else None
    certificates = chain()
    return _chain_expiry(tuple(certificates)) if certificates else None


@functools.lru_cache(maxsize=256)
def _chain_expiry(chain: tuple[Any, ...]) -> float | None:
    # A server presents the same chain run after run, and decoding a chain of two
    # certificates cost 90us a run where the lookup costs 5us: they compare by content.
    return _not_after([certificate.get_info() for certificate in chain])


def _not_after(certificates: list[dict[str, Any]]) -> float | None:
    times = [ssl.cert_time_to_seconds(c["notAfter"]) for c in certificates if "notAfter" in c]
    return float(min(times)) if times else None
