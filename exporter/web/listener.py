"""uvicorn's HTTP protocol with a hard cap on open connections and a first-byte timeout.

uvicorn's `limit_concurrency` answers 503 to a request that arrives while too many are open,
but only once the request has come: connections that never send one are kept without end.
Each costs a file descriptor, so a flood of them would exhaust the process's.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class BoundedHttpProtocol(HttpToolsProtocol):
    """Closes a connection beyond `limit_concurrency` at once, and one idle from its start
    as an idle keep-alive connection is (after `timeout_keep_alive`)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limit = self.limit_concurrency
        if limit is not None and len(self.connections) > limit:
            transport.close()
            return
        # The keep-alive timer is uvicorn's own: data_received stops it, as for a reused
        # connection, and its handler closes the connection.
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )
