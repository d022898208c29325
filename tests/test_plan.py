"""Plans: a target compiled once into what its runs need, and kept while the target is unchanged."""

from __future__ import annotations

import gc
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from exporter.config import Config, load_config, parse_config
from exporter.plan import compile_plan, compile_plans
from exporter.probes import http
from exporter.runtime import Runtime
from exporter.scheduler import Scheduler
from tests.servers import async_wait_for, serve_app


def config(*targets: str) -> Config:
    return parse_config("targets:\n" + "".join(targets))


def target(name: str, url: str, **extra: str) -> str:
    more = "".join(f"    {k}: {v}\n" for k, v in extra.items())
    return (
        f"  - name: {name}\n    severity: critical\n    context: revenue_critical\n"
        f"    service: api\n    interval: 50ms\n    timeout: 50ms\n{more}"
        f'    http: {{url: "{url}"}}\n'
    )


@pytest.fixture(scope="module")
def ok_url() -> Iterator[str]:
    async def ok(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    with serve_app(Starlette(routes=[Route("/ok", ok)])) as base:
        yield base + "/ok"


def test_a_plan_holds_what_a_run_needs_prepared() -> None:
    (one,) = config(target("a", "https://example.test/x", failure_threshold="3")).targets
    plan = compile_plan(one)
    assert (plan.name, plan.kind, plan.interval, plan.timeout) == ("a", "http", 0.05, 0.05)
    assert (plan.success_threshold, plan.failure_threshold) == (2, 3)
    assert plan.labels.full.startswith('{context="revenue_critical",kind="http",probe="a"')
    assert plan.probe.plan is not None  # the request is built, the TLS context loaded
    assert plan.probe.plan.first.tls
    with pytest.raises(AttributeError):  # frozen: a plan changes only by compiling a new one
        plan.timeout = 1.0  # type: ignore[misc]


def reachable(root: object) -> set[int]:
    """The ids of the objects `root` holds, directly or not (functions and classes aside)."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, type | types.FunctionType | types.ModuleType):
            continue
        seen.add(id(obj))
        todo.extend(gc.get_referents(obj))
    return seen


def test_an_http_plan_keeps_no_part_of_the_parsed_target() -> None:
    (one,) = config(target("a", "https://example.test/x")).targets
    assert one.http is not None
    plan = compile_plan(one)
    parsed = [one, one.http, one.http.tls, one.http.headers, one.http.valid_status_codes]
    assert not {id(model) for model in parsed} & reachable(plan)


def test_an_unchanged_target_keeps_its_plan_and_a_changed_one_gets_a_new_one() -> None:
    before = config(target("a", "http://a.test/"), target("b", "http://b.test/"))
    first = {p.name: p for p in compile_plans(before.targets, {})}
    after = config(target("a", "http://a.test/"), target("b", "http://b.test/other"))
    second = {p.name: p for p in compile_plans(after.targets, first)}
    assert second["a"] is first["a"]
    assert second["b"] is not first["b"]
    assert second["b"].about.name == "b"


async def test_runs_reuse_the_prepared_request_and_a_reload_keeps_it(
    ok_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Any] = []
    make_plan = http._make_plan

    def counted(spec: Any) -> Any:
        made.append(spec)
        return make_plan(spec)

    monkeypatch.setattr(http, "_make_plan", counted)
    scheduler = Scheduler()
    try:
        scheduler.apply(config(target("a", ok_url)))
        state = scheduler.states["a"]
        await async_wait_for(lambda: state.runs.get("success", 0) >= 3, "three runs")
        scheduler.apply(config(target("a", ok_url)))  # a reload of the same target
        assert scheduler.states["a"] is state
        runs = state.runs["success"]
        await async_wait_for(lambda: state.runs["success"] >= runs + 2, "two more runs")
    finally:
        await scheduler.stop()
    assert len(made) == 1  # prepared once, when the target was first compiled


async def test_a_changed_target_keeps_its_state_and_runs_its_new_plan(ok_url: str) -> None:
    scheduler = Scheduler()
    try:
        scheduler.apply(config(target("a", ok_url + "?v=1")))
        state = scheduler.states["a"]
        await async_wait_for(lambda: state.runs.get("success", 0) >= 1, "a run")
        scheduler.apply(config(target("a", "http://127.0.0.1:1/")))  # same labels, new URL
        assert scheduler.states["a"] is state
        await async_wait_for(lambda: state.runs.get("connect_error", 0) >= 1, "a new run")
    finally:
        await scheduler.stop()


async def test_a_reload_compiles_its_plans_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []

    def compiling(target: Any, *args: Any) -> Any:
        threads.append(threading.current_thread())
        return compile_plan(target, *args)

    monkeypatch.setattr("exporter.runtime.compile_plan", compiling)
    path = tmp_path / "config.yaml"
    path.write_text("targets:\n" + target("a", "http://127.0.0.1:1/"))
    runtime = Runtime(load_config(path), path, max_concurrency=10)
    runtime.start()  # on the loop: nothing runs yet
    threads.clear()
    try:
        path.write_text("targets:\n" + target("a", "http://127.0.0.1:1/", failure_threshold="3"))
        assert await runtime.reload() is None
    finally:
        await runtime.stop()
    assert runtime.scheduler.states["a"].plan.failure_threshold == 3
    assert len(threads) == 1
    assert threads[0] is not threading.main_thread()
