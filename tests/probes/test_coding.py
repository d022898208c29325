"""Bodies as servers send them: gzip and deflate decoded for checks, within max_response_bytes."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest

from exporter.config import HTTPSpec
from exporter.config.openapi import OpenAPISpec
from exporter.config.steps import StepsSpec
from exporter.conventions import (
    REASON_INVALID_RESPONSE,
    REASON_RESPONSE_TOO_LARGE,
    RESULT_SUCCESS,
)
from exporter.probes import ProbeResult, Trace, http, openapi, steps
from tests.probes.conftest import BOMB_SIZE, DOCUMENT, AppServer, gzip_bomb

CHECKS = [
    {"json_path": "$.status", "equals": "ok"},
    {"json_path": "$.items[0].id", "equals": "a1"},
    {"matches": '"count": 3'},
]


async def run(
    app_server: AppServer, name: str, trace: Trace | None = None, **fields: Any
) -> ProbeResult:
    spec = {"url": f"{app_server.url}/encoded/{name}", "body_checks": CHECKS, **fields}
    return await http.probe(HTTPSpec.model_validate(spec), trace)


@pytest.mark.parametrize("name", ["gzip", "x-gzip", "deflate", "deflate-raw", "gzip-members"])
async def test_a_compressed_json_body_passes_its_checks(app_server: AppServer, name: str) -> None:
    result = await run(app_server, name)
    assert (result.reason, result.detail) == (RESULT_SUCCESS, "")


async def test_the_trace_says_what_was_decoded(app_server: AppServer) -> None:
    trace = Trace()
    await run(app_server, "gzip", trace)
    [line] = [line for line in trace.lines if line.startswith("response of ")]
    assert f", {len(DOCUMENT)} gzip-decoded in " in line


@pytest.mark.parametrize("coding", ["br", "zstd"])
async def test_a_coding_it_cannot_decode_fails_the_body_checks_naming_it(
    app_server: AppServer, coding: str
) -> None:
    result = await run(app_server, coding)
    assert (result.reason, result.detail, result.http_status_code) == (
        REASON_INVALID_RESPONSE,
        f"the body is {coding}-encoded (Content-Encoding), which the probe cannot decode: it "
        f"decodes gzip and deflate (send an Accept-Encoding header that leaves {coding} out)",
        200,
    )


async def test_a_coding_it_cannot_decode_is_no_matter_when_no_check_reads_the_body(
    app_server: AppServer,
) -> None:
    assert (await run(app_server, "br", body_checks=[])).success


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("gzip-corrupt", "Error -3 while decompressing data: invalid block type"),
        ("gzip-cut", "the gzip stream is cut short"),
    ],
)
async def test_a_broken_compressed_body_is_an_invalid_response(
    app_server: AppServer, name: str, problem: str
) -> None:
    result = await run(app_server, name)
    assert result.reason == REASON_INVALID_RESPONSE
    assert result.detail.endswith(f": the body is not valid gzip (Content-Encoding): {problem}")


async def test_a_gzip_bomb_stops_at_max_response_bytes_of_decoded_body(
    app_server: AppServer,
) -> None:
    assert len(gzip_bomb()) < (1 << 20) < BOMB_SIZE  # small on the wire, huge decoded
    tracemalloc.start()
    try:
        result = await run(app_server, "gzip-bomb", max_response_bytes=1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.reason, result.detail.split(": ", 1)[1]) == (
        REASON_RESPONSE_TOO_LARGE,
        "the body, gzip-decoded, exceeds max_response_bytes (1048576)",
    )
    assert peak < 8 << 20  # a few times the limit, never the 64 MiB the bomb decodes to


async def test_a_flow_captures_from_a_compressed_body(app_server: AppServer) -> None:
    step = {
        "name": "read",
        "url": f"{app_server.url}/encoded/gzip",
        "capture": {"first": {"json_path": "$.items[0].id", "secret": False}},
    }
    trace = Trace()
    result = await steps.probe(StepsSpec.model_validate({"steps": [step]}), trace)
    assert result.success, result.detail
    assert "captured first = a1" in trace.lines


async def test_an_openapi_document_may_come_compressed(app_server: AppServer) -> None:
    spec = {"url": f"{app_server.url}/encoded/br", "routes": ["GET /users"]}
    result = await openapi.probe(OpenAPISpec.model_validate(spec))
    assert result.reason == REASON_INVALID_RESPONSE
    assert result.detail.startswith("the body is br-encoded (Content-Encoding)")
