"""The steps probe: a flow of HTTP requests sharing cookies and captured values, as a user would.

Each step is judged as the http probe judges a request; the flow stops at the first step that
fails. Every configured step is reported on every run (StepResult), the ones a failure kept
from running as failed with no duration, so `business_probe_step_success` keeps its series.
Captured values and secret variables never reach a trace, a detail or a log: they join the
run's mask (exporter/probes/_mask.py) as they are captured.

result = await probe(StepsSpec.model_validate({"steps": [
    {"name": "login", "url": "http://127.0.0.1:8000/api/v1/auth/login", "method": "POST",
     "json": {"email": "a@b.c", "password": "${password}"},
     "capture": {"token": {"json_path": "$.access_token"}}},
    {"name": "admin", "url": "http://127.0.0.1:8000/api/v1/admin/feature-flags",
     "headers": {"Authorization": "Bearer ${token}"}},
], "variables": {"password": {"env": "PASSWORD"}}}))
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from exporter.config import SecretSource, reveal
from exporter.config.steps import VARIABLE, Capture, Step, StepsSpec
from exporter.conventions import REASON_CAPTURE_FAILED, REASON_ERROR
from exporter.jsonpath import MISSING, compile_path, lookup
from exporter.probes._cookies import CookieJar
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
from exporter.probes._http_client import Header, Request, Response
from exporter.probes._mask import PreparedProbe, current_mask, the_spec
from exporter.probes._mask import prepare as prepare_with
from exporter.probes.http import Checks, Expected, compile_checks, judge
from exporter.probes.result import ProbeResult, Seen, StepResult, Trace

Path = tuple[str | int, ...]


@dataclass(slots=True)
class _StepPlan:
    step: Step
    headers: tuple[tuple[Header, bool], ...]  # (header, whether it holds ${name})
    checks: Checks
    captures: tuple[tuple[str, Capture, Path], ...]
    connector: Connector
    redirects: Redirects
    expected: Expected


@dataclass(slots=True)
class _Plan:
    steps: tuple[_StepPlan, ...]
    variables: dict[str, str]
    secret: frozenset[str]  # the variables read from env or a file


def prepare(spec: StepsSpec) -> PreparedProbe[StepsSpec, StepsSpec, _Plan]:
    """The flow of `spec`, each step's headers, checks, captures and TLS prepared for every run."""
    return prepare_with(spec, _make_plan, _run, the_spec)


async def probe(spec: StepsSpec, trace: Trace | None = None) -> ProbeResult:
    """Run the steps in order until one fails, prepared for this run alone."""
    return await prepare(spec)(trace)


async def _run(spec: StepsSpec, plan: _Plan, trace: Trace | None) -> ProbeResult:
    """Every configured step is in `steps`."""
    started = time.perf_counter()
    flow = _Flow(plan, trace)
    verdict = await flow.run()
    if flow.trace:
        text = "success" if verdict.success else f"failure ({verdict.reason}): {verdict.detail}"
        flow.trace.add(f"verdict: {text}, {ms(started)} in all")
        flow.trace.flush()
    return verdict


# Preparing a spec, once per compiled target.


def _make_plan(spec: StepsSpec) -> _Plan:
    secret = frozenset(n for n, v in spec.variables.items() if isinstance(v, SecretSource))
    variables = {name: reveal(value) for name, value in spec.variables.items()}
    return _Plan(tuple(_step_plan(step) for step in spec.steps), variables, secret)


def _step_plan(step: Step) -> _StepPlan:
    templated = {n for n, v in step.headers.items() if isinstance(v, str) and VARIABLE.search(v)}
    headers = tuple((h, h.name in templated) for h in configured_headers(step))
    captures = tuple(
        (name, c, compile_path(c.json_path) if c.json_path else ())
        for name, c in step.capture.items()
    )
    connector = Connector(step)
    checks = compile_checks(step)
    plan = _StepPlan(
        step, headers, checks, captures, connector, Redirects.of(step), Expected.of(step)
    )
    if step.url.startswith("https:"):
        with contextlib.suppress(Failure):  # it fails again, in its step, when it is needed
            plan.connector.tls.context()
    return plan


class _HeldTrace(Trace):
    """Holds a step's lines until its captures are known, then passes them on to be masked.

    The response a value is captured from is traced before the capture: a header it came in
    would show, were the lines masked before the capture joined the run's mask.
    """

    def __init__(self, inner: Trace) -> None:
        super().__init__()
        self._inner = inner

    def flush(self) -> None:
        for line in self.lines:
            self._inner.add(line)
        self.lines.clear()


class _Flow:
    """One run of a flow: the variables and cookies so far, and what must not be shown."""

    def __init__(self, plan: _Plan, trace: Trace | None) -> None:
        self.plan = plan
        self.values = dict(plan.variables)
        self.secret = set(plan.secret)
        self.mask = current_mask()  # the run's: it masks the trace and the detail
        self.jar = CookieJar()
        self.trace = _HeldTrace(trace) if trace else None
        self.seen: Seen | None = None  # the last response's, every certificate's expiry

    async def run(self) -> ProbeResult:
        """The steps in order up to the first failure, which is the verdict's."""
        verdict, done, count = ProbeResult.ok(), list[StepResult](), len(self.plan.steps)
        for i, plan in enumerate(self.plan.steps):
            begun = time.perf_counter()
            outcome = await self._step(plan, f'step {i + 1}/{count} "{plan.step.name}"')
            done.append(StepResult(plan.step.name, outcome.success, time.perf_counter() - begun))
            verdict.http_status_code = outcome.http_status_code
            if not outcome.success:
                detail = f'step "{plan.step.name}" ({i + 1} of {count}): {outcome.detail}'
                status = outcome.http_status_code
                verdict = ProbeResult.failed(outcome.reason, detail, http_status_code=status)
                break
        unrun = [StepResult(p.step.name, False, 0.0) for p in self.plan.steps[len(done) :]]
        verdict.steps = done + unrun
        verdict.seen = self.seen
        return verdict

    async def _step(self, plan: _StepPlan, title: str) -> ProbeResult:
        try:
            return await self._exchange(plan, title)
        finally:  # on cancellation too: the debug output shows how far the step got
            if self.trace:
                self.trace.flush()

    async def _exchange(self, plan: _StepPlan, title: str) -> ProbeResult:
        """One step: build its request from the variables, send it, judge it, capture."""
        trace = self.trace
        try:
            request = self._request(plan)
            if trace:
                trace.add(f"{title}: {request.method} {request.url}")
            begun = time.perf_counter()
            response = await follow(
                plan.redirects, request, request.encode(), plan.connector, trace, self.jar
            )
            self.seen = seen(response, self.seen.cert_expiry if self.seen else None)
            result = judge(plan.expected, plan.checks, response, time.perf_counter() - begun, trace)
            if result.success:
                result = self._capture(plan, response)
        except Failure as failure:
            result = ProbeResult.failed(
                failure.reason, str(failure), http_status_code=failure.status
            )
        except Exception as err:  # a surprise still ends as a result; CancelledError passes
            result = ProbeResult.failed(REASON_ERROR, f"{type(err).__name__}: {err}")
        if trace:
            verdict = "passed" if result.success else f"failed ({result.reason}): {result.detail}"
            trace.add(f"{title} {verdict}")
        return result

    def _fill(self, text: str) -> str:
        return VARIABLE.sub(self._value, text)

    def _value(self, match: re.Match[str]) -> str:
        value = self.values.get(match.group(1))
        if value is None:  # parse_config refuses such a flow; a spec built in code may not
            raise Failure(REASON_ERROR, f"{match.group(0)} has no value: nothing sets it earlier")
        return value

    def _fill_json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._fill(value)
        if isinstance(value, dict):
            return {key: self._fill_json(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._fill_json(item) for item in value]
        return value

    def _request(self, plan: _StepPlan) -> Request:
        step = plan.step
        headers = tuple(
            Header(h.name, self._fill(h.value), h.secret or self._holds_secret(h.value))
            if templated
            else h
            for h, templated in plan.headers
        )
        is_json = "json_body" in step.model_fields_set
        body = json.dumps(self._fill_json(step.json_body)).encode() if is_json else None
        if step.body is not None:
            body = self._fill(step.body).encode()
        url = self._fill(step.url)
        return new_request(url, step.method, headers, body, is_json, step.tls.server_name)

    def _holds_secret(self, template: str) -> bool:
        return any(name in self.secret for name in VARIABLE.findall(template))

    def _capture(self, plan: _StepPlan, response: Response) -> ProbeResult:
        document: Any = MISSING
        for name, capture, path in plan.captures:
            if capture.header is not None:
                raw = response.header(capture.header.lower().encode("latin-1"))
                value = None if raw is None else raw.decode("latin-1")
                where = f"header {capture.header}"
            else:
                document = _parse(readable_body(response)) if document is MISSING else document
                value = None if document is _NOT_JSON else _text(lookup(document, path))
                where = f"json_path {capture.json_path}"
            if not value:
                why = (
                    " (the body is not JSON)" if capture.json_path and document is _NOT_JSON else ""
                )
                detail = f"capture {name}: {where} found nothing in the response{why}"
                return ProbeResult.failed(
                    REASON_CAPTURE_FAILED, detail, http_status_code=response.status
                )
            self._keep(name, value, capture.secret)
        return ProbeResult.ok(http_status_code=response.status)

    def _keep(self, name: str, value: str, secret: bool) -> None:
        self.values[name] = value
        if secret:
            self.secret.add(name)
            self.mask.add(value)
        else:
            self.secret.discard(name)
        if self.trace:
            self.trace.add(f"captured {name}" + (" (secret)" if secret else f" = {value}"))


_NOT_JSON = object()  # where no path finds anything


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:  # JSONDecodeError, or bytes that are no Unicode at all
        return _NOT_JSON


def _text(value: Any) -> str | None:
    """A captured JSON value as it goes into a URL, header or body; None for nothing."""
    if value is MISSING or value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
