"""Local stand-ins for Slack, PagerDuty, webhooks and SMTP: servers that record what arrives.

Alertmanager notifies them as it would the real services; the demo prints what the webhook sink
receives, the end-to-end tests and the time-to-detection bench wait on what both recorded.

    with WebhookSink() as hooks, SmtpSink() as mail:
        ...  # point the receivers at hooks.url + "/<name>" and at mail.host:mail.port
        posted = hooks.wait_for(lambda p: p.path == "/oncall", timeout=20, what="on-call")

The SMTP sink needs aiosmtpd (a dev dependency): only the tests use it, the demo does not.
`python -m exporter.demo.sink --listen HOST:PORT` runs a webhook sink that prints what arrives.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import email.policy
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from exporter.demo.notifications import NotificationPrinter

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Post:
    """One POST the webhook sink received."""

    path: str
    body: Any  # the parsed JSON, or None when the body is not JSON
    raw: bytes
    received: float  # time.time() at arrival
    monotonic: float  # time.monotonic() at arrival, to measure delays with


@dataclass(frozen=True, slots=True)
class Mail:
    """One message the SMTP sink received."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    received: float
    monotonic: float = field(repr=False)

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    def part(self, subtype: str) -> str:
        """The text of the first text/<subtype> part ("plain" or "html"), "" when none."""
        body = self.message.get_body(preferencelist=(subtype,))
        if body is None or body.get_content_subtype() != subtype:
            return ""
        return str(body.get_content())


class _Recorder(Generic[R]):
    """What a sink received, in arrival order, with waiting on a condition instead of sleeps."""

    def __init__(self, on_record: Callable[[R], None] | None = None) -> None:
        self._records: list[R] = []
        self._changed = threading.Condition()
        self._on_record = on_record

    @property
    def records(self) -> list[R]:
        """A snapshot of everything received so far."""
        with self._changed:
            return list(self._records)

    def _add(self, record: R) -> None:
        with self._changed:
            self._records.append(record)
            self._changed.notify_all()
        if self._on_record is not None:
            self._on_record(record)

    def matching_within(self, predicate: Callable[[R], bool], seconds: float) -> list[R]:
        """Wait up to `seconds` for a record matching `predicate`; every match seen by then.

        Returns as soon as one matches, so asserting that nothing arrives fails fast.
        """
        deadline = time.monotonic() + seconds
        with self._changed:
            while True:
                found = [r for r in self._records if predicate(r)]
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return found
                self._changed.wait(remaining)

    def wait_for(self, predicate: Callable[[R], bool], timeout: float, what: str = "it") -> R:
        """The first record matching `predicate`, waiting up to `timeout` seconds for it."""
        found = self.matching_within(predicate, timeout)
        if not found:
            received = "\n  ".join(map(_summary, self.records)) or "nothing"
            raise TimeoutError(f"no {what} within {timeout:g}s; received:\n  {received}")
        return found[0]


def _summary(record: object) -> str:
    if isinstance(record, Post):
        return f"POST {record.path} {record.raw[:300]!r}"
    if isinstance(record, Mail):
        return f"mail to {', '.join(record.rcpt_tos)}: {record.subject}"
    return repr(record)


class WebhookSink(_Recorder[Post]):
    """An HTTP server (on 127.0.0.1 unless told) answering 200 to every POST, and keeping it.

    `on_post` is called in the server's thread for each POST, after it is recorded.
    """

    def __init__(
        self,
        port: int = 0,
        on_post: Callable[[Post], None] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(on_post)
        self._server = _HTTPServer((host, port), _PostHandler)
        self._server.sink = self
        self.port: int = self._server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    sink: WebhookSink


class _PostHandler(BaseHTTPRequestHandler):
    server: _HTTPServer

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        arrived = Post(self.path, _json(raw), raw, time.time(), time.monotonic())
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
        self.server.sink._add(arrived)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request on stderr would drown the demo's own output


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


class SmtpSink(_Recorder[Mail]):
    """An SMTP server on 127.0.0.1 without TLS or AUTH that accepts every message and keeps it.

    Alertmanager reaches it with `smarthost: 127.0.0.1:<port>` and `require_tls: false`.
    """

    def __init__(self, on_mail: Callable[[Mail], None] | None = None) -> None:
        super().__init__(on_mail)
        self.host = "127.0.0.1"
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def __enter__(self) -> Self:
        self._thread.start()
        try:
            future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
            self._server = future.result(timeout=10)
        except BaseException:
            self.close()
            raise
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
        self._loop.close()

    async def _listen(self) -> asyncio.Server:
        from aiosmtpd.smtp import SMTP  # a dev dependency: imported only when an SMTP sink runs

        handler = _MailHandler(self)
        # Alertmanager may send UTF-8 addresses; accept them as the aiosmtpd Controller does.
        return await self._loop.create_server(
            lambda: SMTP(handler, hostname="sink.localhost", enable_SMTPUTF8=True),
            self.host,
            0,
        )

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:  # sessions still open: cancel them rather than leave them pending
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)


class _MailHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode()
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        mail = Mail(
            envelope.mail_from or "",
            tuple(envelope.rcpt_tos),
            message,
            time.time(),
            time.monotonic(),
        )
        self.sink._add(mail)
        return "250 Message accepted for delivery"


def main(argv: list[str] | None = None) -> int:
    """`python -m exporter.demo.sink [--listen HOST:PORT]`: print notifications until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Print each Alertmanager notification POSTed.")
    parser.add_argument("--listen", default="127.0.0.1:9000", help="default %(default)s")
    host, _, port = parser.parse_args(argv).listen.rpartition(":")
    with WebhookSink(int(port), NotificationPrinter(), host=host or "127.0.0.1") as sink:
        print(f"printing the notifications POSTed to {sink.url}/<receiver>", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
