"""The HTTP probe: a request and its redirects, each on a fresh connection, checked against a spec.

result = await probe(HTTPSpec.model_validate({"url": "https://api.example.com/health"}))
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from dataclasses import dataclass

from exporter.config import BodyCheck, HTTPSpec, format_duration
from exporter.config.http import StatusPattern, status_matches
from exporter.conventions import (
    REASON_BODY_MISMATCH,
    REASON_ERROR,
    REASON_SLOW,
    REASON_UNEXPECTED_STATUS,
)
from exporter.jsonpath import compile_path
from exporter.probes._body import check_body
from exporter.probes._fetch import (
    Connector,
    Failure,
    Redirects,
    configured_headers,
    follow,
    ms,
    new_request,
    readable_body,
    seen,
)
from exporter.probes._http_client import Request, Response
from exporter.probes._mask import PreparedProbe
from exporter.probes._mask import prepare as prepare_with
from exporter.probes.result import ProbeResult, Trace

Checks = tuple[tuple[BodyCheck, tuple[str | int, ...]], ...]


@dataclass(frozen=True, slots=True)
class Expected:
    """What a final response is judged against: its spec's valid statuses and max_duration."""

    valid_status_codes: tuple[StatusPattern, ...]
    max_duration: float | None

    @classmethod
    def of(cls, spec: HTTPSpec) -> Expected:
        """The spec's expectations, one object for the many specs that give the same."""
        return _expected(tuple(spec.valid_status_codes), spec.max_duration)


@functools.lru_cache(maxsize=1024)
def _expected(codes: tuple[StatusPattern, ...], max_duration: float | None) -> Expected:
    return Expected(codes, max_duration)


@dataclass(frozen=True, slots=True)
class _Run:
    """What every run reads of its spec: the spec itself is not kept once its plan is made."""

    method: str
    url: str
    redirects: Redirects
    expected: Expected

    @classmethod
    def of(cls, spec: HTTPSpec) -> _Run:
        return cls(spec.method, spec.url, Redirects.of(spec), Expected.of(spec))


@dataclass(slots=True)
class _Plan:
    """What a spec needs at every run, worked out once per spec object."""

    first: Request
    data: bytes
    checks: Checks
    connector: Connector


def prepare(spec: HTTPSpec) -> PreparedProbe[HTTPSpec, _Run, _Plan]:
    """The probe of `spec`, its request, TLS context and checks prepared for every run."""
    return prepare_with(spec, _make_plan, _run, _Run.of)


async def probe(spec: HTTPSpec, trace: Trace | None = None) -> ProbeResult:
    """Run one HTTP check of `spec`, prepared for this run alone."""
    return await prepare(spec)(trace)


async def _run(spec: _Run, plan: _Plan, trace: Trace | None) -> ProbeResult:
    """Trouble with the target comes back as a failed result."""
    if trace:
        trace.add(f"probing {spec.method} {spec.url}")
    started = time.perf_counter()
    response: Response | None = None
    try:
        response = await follow(spec.redirects, plan.first, plan.data, plan.connector, trace)
        result = judge(spec.expected, plan.checks, response, time.perf_counter() - started, trace)
    except Failure as failure:
        result = ProbeResult.failed(failure.reason, str(failure), http_status_code=failure.status)
    except Exception as err:  # a surprise still ends as a result; CancelledError passes
        result = ProbeResult.failed(REASON_ERROR, f"{type(err).__name__}: {err}")
    if response is not None:
        result.seen = seen(response)
    if trace:
        outcome = "success" if result.success else f"failure ({result.reason}): {result.detail}"
        trace.add(f"verdict: {outcome}, {ms(started)} in all")
    return result


# Preparing a spec, once per compiled target: request bytes, TLS context, compiled checks.


def _make_plan(spec: HTTPSpec) -> _Plan:
    is_json = "json_body" in spec.model_fields_set
    body = json.dumps(spec.json_body).encode() if is_json else None
    if spec.body is not None:
        body = spec.body.encode()
    headers = tuple(configured_headers(spec))
    first = new_request(spec.url, spec.method, headers, body, is_json, spec.tls.server_name)
    plan = _Plan(first, first.encode(), compile_checks(spec), Connector(spec))
    if first.tls:
        with contextlib.suppress(Failure):  # it fails again, in the run, where it is reported
            plan.connector.tls.context()
    return plan


def compile_checks(spec: HTTPSpec) -> Checks:
    """The spec's body checks, each with its JSON path split once."""
    return tuple((c, compile_path(c.json_path) if c.json_path else ()) for c in spec.body_checks)


# Judging the final response.


def judge(
    spec: Expected, checks: Checks, response: Response, elapsed: float, trace: Trace | None
) -> ProbeResult:
    """The verdict on a final response: its status, then its body, then how long it took."""
    status = response.status
    if not status_matches(spec.valid_status_codes, status):
        expected = ", ".join(str(code) for code in spec.valid_status_codes)
        return ProbeResult.failed(
            REASON_UNEXPECTED_STATUS,
            f"status {status}, expected {expected}",
            http_status_code=status,
        )
    mismatch = check_body(checks, readable_body(response), trace) if checks else None
    if mismatch is not None:
        return ProbeResult.failed(REASON_BODY_MISMATCH, mismatch, http_status_code=status)
    if spec.max_duration is not None and elapsed > spec.max_duration:
        limit = format_duration(spec.max_duration)
        detail = f"took {elapsed * 1000:.0f}ms, longer than max_duration {limit}"
        return ProbeResult.failed(REASON_SLOW, detail, http_status_code=status)
    return ProbeResult.ok(http_status_code=status)
