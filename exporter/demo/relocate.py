"""Point a config's targets at the addresses the demo's servers really listen on.

The reference config names the usual loopback ports (the API on 8000, PostgreSQL on 55432,
Redis on 56379). When one is taken the server moves, and the targets that named it follow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from exporter.config import Config, Target
from exporter.demo.ports import Address


def relocated(config: Config, moves: Mapping[Address, Address]) -> Config:
    """`config` with every URL and host:port found in `moves` replaced by where it moved."""
    moves = {old: new for old, new in moves.items() if old != new}
    if not moves:
        return config
    targets = [_relocated(target, moves) for target in config.targets]
    return config.model_copy(update={"targets": targets})


def url_address(url: str) -> Address | None:
    """(host, port) of an http(s) URL, the port defaulted by the scheme."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a ${variable} for a port, say
        return None
    return (parts.hostname, port) if parts.hostname else None


def _relocated(target: Target, moves: Mapping[Address, Address]) -> Target:
    spec = getattr(target, target.kind)
    if hasattr(spec, "url"):
        moved: Any = spec.model_copy(update={"url": _url(spec.url, moves)})
    elif hasattr(spec, "steps"):
        steps = [s.model_copy(update={"url": _url(s.url, moves)}) for s in spec.steps]
        moved = spec.model_copy(update={"steps": steps})
    elif hasattr(spec, "host") and (spec.host, spec.port) in moves:
        host, port = moves[(spec.host, spec.port)]
        moved = spec.model_copy(update={"host": host, "port": port})
    else:
        return target
    return target.model_copy(update={target.kind: moved})


def _url(url: str, moves: Mapping[Address, Address]) -> str:
    address = url_address(url)
    if address is None or address not in moves:
        return url
    host, port = moves[address]
    parts = urlsplit(url)
    auth = parts.netloc.rpartition("@")[0]
    netloc = f"{auth}@{host}:{port}" if auth else f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))
