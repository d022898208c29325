"""uvicorn's HTTP protocol with a hard cap on open connections and a first-byte timeout.

uvicorn's `limit_concurrency` answers 503 to a request that arrives while too many connections
are open, but only once the request has come: connections that never send one are kept
without end, each a file descriptor, so a flood of them would exhaust the process's. And it
counts the asking connection itself, so at the limit every request gets 503, none is served.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def limit_concurrency(max_connections: int) -> int:
    """uvicorn's limit for at most `max_connections` open, all of them served."""
    return max_connections + 1


class BoundedHttpProtocol(HttpToolsProtocol):
    """Closes a connection beyond `max_connections` at once, and one idle from its start
    as uvicorn closes an idle keep-alive one (after `timeout_keep_alive`)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limit = self.limit_concurrency
        if limit is not None and len(self.connections) >= limit:  # one above max_connections
            transport.close()
            return
        # The keep-alive timer is uvicorn's own: data_received stops it, as for a reused
        # connection, and its handler closes the connection.
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )
