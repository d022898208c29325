"""The demo's loopback ports: the usual one when it is free, another when something holds it.

A demo killed without a chance to clean up (SIGKILL, a crash) leaves its servers listening; the
next one moves to free ports and says what holds the usual ones, so that it is not left without
a database for a reason nobody sees.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

Address = tuple[str, int]

_PROC = Path("/proc")
_LISTEN = "0A"  # the TCP state in /proc/net/tcp


def is_free(address: Address) -> bool:
    """True when a server could listen on `address` now (SO_REUSEADDR, as servers bind)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port of `host` that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def usual_or_free(usual: Address, what: str) -> tuple[Address, str | None]:
    """`usual` when it is free; else a free port of the same host, and a line saying so and
    naming what holds the usual one."""
    if is_free(usual):
        return usual, None
    moved = (usual[0], free_port(usual[0]))
    held = holder(usual[1])
    return moved, (
        f"{usual[0]}:{usual[1]} is taken{f' by {held}' if held else ''}: {what} listens on "
        f"{moved[0]}:{moved[1]} instead"
    )


def holder(port: int) -> str:
    """The process listening on TCP `port`, as "pid N (name)", when it can be read."""
    inodes = _listening_inodes(port)
    if not inodes:
        return ""
    for pid_dir in _PROC.glob("[0-9]*"):
        with contextlib.suppress(OSError):
            for fd in (pid_dir / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return f"pid {pid_dir.name} ({_command(pid_dir)})"
    return ""


def _listening_inodes(port: int) -> set[str]:
    found = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (_PROC / "net" / table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == _LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
                    found.add(f"socket:[{inode}]")
    return found


def _command(pid_dir: Path) -> str:
    # The process name only: a command line may carry secrets, and this is printed.
    try:
        return (pid_dir / "comm").read_text().strip() or "?"
    except OSError:
        return "?"
