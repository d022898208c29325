"""preferred_ip_protocol and ip_protocol_fallback, against servers on 127.0.0.1 and on ::1.

No host name here resolves to both an IPv4 and an IPv6 loopback address (/etc/hosts has
`localhost` as 127.0.0.1 only). In process, the tests hold each family's lookup to what it
must find: an IPv6 literal has no IPv4 address and `localhost` no IPv6 one, and the preference
either falls back to the other protocol or fails the run as blackbox_exporter does. For a name
with both, `business-exporter probe` runs with nss_wrapper (Debian package libnss-wrapper),
which resolves names from a hosts file of the test's own: `dual.test` is 127.0.0.1 and ::1,
each with its own server on one port, and the body says which one answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from exporter.config import HTTPSpec
from exporter.conventions import REASON_DNS_ERROR, RESULT_SUCCESS
from exporter.probes import ProbeResult, Trace
from exporter.probes.http import probe

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


@contextlib.asynccontextmanager
async def server_on(host: str, port: int = 0, body: bytes = b"ok") -> AsyncIterator[int]:
    answer_bytes = ANSWER.replace(b"ok", body).replace(b"Length: 2", b"Length: %d" % len(body))

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer_bytes)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, host, port)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def run(url: str, trace: Trace | None = None, **fields: Any) -> ProbeResult:
    return await probe(HTTPSpec.model_validate({"url": url, **fields}), trace)


async def test_ipv6_loopback_is_there_to_test_on() -> None:
    async with server_on("::1") as port:
        assert (await run(f"http://[::1]:{port}/")).success


async def test_an_ipv6_only_target_is_reached_by_falling_back_from_ipv4() -> None:
    async with server_on("::1") as port:
        trace = Trace()
        result = await run(f"http://[::1]:{port}/", trace, preferred_ip_protocol="ip4")
        assert (result.reason, result.detail) == (RESULT_SUCCESS, "")
        assert f"resolving and connecting to ::1:{port} (IPv4 then IPv6)" in trace.lines
        assert any(line.startswith("no IPv4 address for ::1 (") for line in trace.lines)
        assert any(line.startswith(f"connected to ::1:{port} in ") for line in trace.lines)


async def test_without_fallback_a_target_lacking_the_preferred_protocol_fails() -> None:
    async with server_on("::1") as port:
        fields: dict[str, Any] = {"preferred_ip_protocol": "ip4", "ip_protocol_fallback": False}
        result = await run(f"http://[::1]:{port}/", **fields)
        assert result.reason == REASON_DNS_ERROR
        assert result.detail.startswith("cannot resolve ::1 to an IPv4 address: ")


@pytest.mark.parametrize(
    ("fallback", "reason"), [(True, RESULT_SUCCESS), (False, REASON_DNS_ERROR)]
)
async def test_preferring_ipv6_for_an_ipv4_only_name(fallback: bool, reason: str) -> None:
    async with server_on("127.0.0.1") as port:
        trace = Trace()
        fields: dict[str, Any] = {"preferred_ip_protocol": "ip6", "ip_protocol_fallback": fallback}
        result = await run(f"http://localhost:{port}/", trace, **fields)
        assert result.reason == reason
        if fallback:
            assert any(line.startswith("no IPv6 address for localhost") for line in trace.lines)
            assert any(line.startswith(f"connected to 127.0.0.1:{port}") for line in trace.lines)
        else:
            assert result.detail.startswith("cannot resolve localhost to an IPv6 address: ")


async def test_the_preferred_protocol_is_used_when_the_name_has_it() -> None:
    async with server_on("127.0.0.1") as port:
        trace = Trace()
        result = await run(f"http://localhost:{port}/", trace, preferred_ip_protocol="ip4")
        assert result.success
        assert not any(line.startswith("no IPv4 address") for line in trace.lines)


# A name with both protocols, resolved by nss_wrapper in a `business-exporter probe` process


NSS_WRAPPER = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so"


def _free_on_both() -> int:
    """A port free on 127.0.0.1 and on ::1 alike."""
    while True:
        with socket.socket() as v4, socket.socket(socket.AF_INET6) as v6:
            v4.bind(("127.0.0.1", 0))
            port: int = v4.getsockname()[1]
            with contextlib.suppress(OSError):
                v6.bind(("::1", port))
                return port


async def _probe_dual(tmp_path: Path, preferred: str) -> tuple[int, str]:
    hosts, config = tmp_path / "hosts", tmp_path / "dual.yaml"
    hosts.write_text("127.0.0.1 dual.test\n::1 dual.test\n")
    port = _free_on_both()
    config.write_text(
        "targets:\n  - name: dual\n    severity: high\n    context: c\n    service: s\n"
        f"    http: {{url: 'http://dual.test:{port}/', preferred_ip_protocol: {preferred},\n"
        f"           body_checks: [{{matches: '^{preferred}$'}}]}}\n"
    )
    env = {**os.environ, "LD_PRELOAD": NSS_WRAPPER, "NSS_WRAPPER_HOSTS": str(hosts)}
    async with server_on("127.0.0.1", port, b"ip4"), server_on("::1", port, b"ip6"):
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "exporter", "probe", "--config", str(config), "dual"),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


@pytest.mark.parametrize("preferred", ["ip4", "ip6"])
def test_a_name_with_both_protocols_is_reached_over_the_preferred_one(
    tmp_path: Path, preferred: str
) -> None:
    """Not run on each event loop as the others: the loop that matters is the subprocess'."""
    assert os.path.isfile(NSS_WRAPPER), "libnss-wrapper is installed by `make test`"
    code, output = asyncio.run(_probe_dual(tmp_path, preferred))
    assert code == 0, output
    address = "127.0.0.1" if preferred == "ip4" else "::1"
    assert f"connected to {address}:" in output, output
