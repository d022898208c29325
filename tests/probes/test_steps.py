"""The steps probe: the reference Zebra login flow on the demo API, and flows on a recording app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from exporter.cli import main
from exporter.collector import probe_families
from exporter.config import Target, parse_config
from exporter.config.steps import StepsSpec
from exporter.conventions import (
    PROBE_STEP_SUCCESS,
    REASON_BODY_MISMATCH,
    REASON_CAPTURE_FAILED,
    REASON_CONNECT_ERROR,
    REASON_ERROR,
    REASON_SLOW,
    REASON_TIMEOUT,
    REASON_UNEXPECTED_STATUS,
    RESULT_SUCCESS,
)
from exporter.demo.app import DEMO_PASSWORD
from exporter.plan import compile_plan
from exporter.probes import ProbeResult, Trace
from exporter.probes.steps import probe
from exporter.scheduler import run_once
from exporter.state import TargetState
from tests.probes.conftest import Demo
from tests.servers import serve_app

REFERENCE = Path(__file__).parents[2] / "examples" / "marketedge.yaml"
PASSWORD = "pw-91c3-from-env-secret"
TOKEN = "tok-5b2f-captured-secret"
FLAGS = "/api/v1/admin/feature-flags"


# The demo API and the reference config's zebra_admin_login_flow


@pytest.fixture
def demo(_demo: Demo, monkeypatch: pytest.MonkeyPatch) -> Iterator[Demo]:
    """The demo API with every router up, and the password the reference config reads."""
    monkeypatch.setenv("ZEBRA_DEMO_PASSWORD", DEMO_PASSWORD)
    yield _demo
    _demo.faults.reset()


def zebra_target(demo: Demo) -> Target:
    """The reference config's flow alone (its other targets read other secrets)."""
    data = yaml.safe_load(REFERENCE.read_text())
    data["targets"] = [t for t in data["targets"] if t["name"] == "zebra_admin_login_flow"]
    del data["services"], data["targets"][0]["depends_on"]  # what it needs is left out
    del data["maintenance"]  # its windows name services this one target lacks
    text = yaml.safe_dump(data).replace("http://127.0.0.1:8000/", f"{demo.url}/")
    return parse_config(text).targets[0]


def zebra_flow(demo: Demo, **changes: Any) -> StepsSpec:
    """The reference flow, `changes` applied to its admin step."""
    spec = zebra_target(demo).steps
    assert spec is not None
    data = spec.model_dump(by_alias=True, exclude_unset=True)
    data["variables"] = spec.variables
    data["steps"][1].update(changes)
    return StepsSpec.model_validate(data)


def outcome(result: ProbeResult) -> list[tuple[str, bool]]:
    return [(step.name, step.success) for step in result.steps]


async def test_the_zebra_admin_flow_passes_on_a_healthy_api(demo: Demo) -> None:
    spec = zebra_target(demo).steps
    assert spec is not None
    result = await probe(spec)
    assert (result.reason, result.detail, result.http_status_code) == (RESULT_SUCCESS, "", 200)
    assert outcome(result) == [("login", True), ("admin_feature_flags", True)]
    assert all(step.duration_seconds > 0 for step in result.steps)


async def test_without_the_auth_router_the_flow_fails_at_login(demo: Demo) -> None:
    demo.faults.drop("auth")
    result = await probe(zebra_flow(demo))
    assert (result.reason, result.detail, result.http_status_code) == (
        REASON_UNEXPECTED_STATUS,
        'step "login" (1 of 2): status 404, expected 200',
        404,
    )
    # The admin step never ran: still reported, as failed and taking no time.
    assert outcome(result) == [("login", False), ("admin_feature_flags", False)]
    assert result.steps[1].duration_seconds == 0.0


async def test_without_the_admin_router_the_flow_fails_at_the_admin_step(demo: Demo) -> None:
    demo.faults.drop("admin")
    result = await probe(zebra_flow(demo))
    assert (result.reason, result.detail, result.http_status_code) == (
        REASON_UNEXPECTED_STATUS,
        'step "admin_feature_flags" (2 of 2): status 404, expected 200',
        404,
    )
    assert outcome(result) == [("login", True), ("admin_feature_flags", False)]


async def test_a_wrong_password_from_the_environment_fails_login(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZEBRA_DEMO_PASSWORD", "not-the-password")
    result = await probe(zebra_flow(demo))
    assert result.detail == 'step "login" (1 of 2): status 401, expected 200'


@pytest.mark.parametrize(
    ("changes", "fault", "reason", "detail"),
    [
        (
            {"body_checks": [{"json_path": "$.flags[1].enabled", "equals": False}]},
            None,
            REASON_BODY_MISMATCH,
            "body_checks[0] json_path $.flags[1].enabled equals false: is true",
        ),
        ({"max_duration": "100ms"}, 0.3, REASON_SLOW, "longer than max_duration 100ms"),
    ],
)
async def test_each_step_is_judged_by_its_own_expectations(
    demo: Demo, changes: dict[str, Any], fault: float | None, reason: str, detail: str
) -> None:
    if fault is not None:
        demo.faults.slow(FLAGS, fault)
    result = await probe(zebra_flow(demo, **changes))
    assert result.reason == reason
    assert result.detail.startswith('step "admin_feature_flags" (2 of 2): ')
    assert detail in result.detail


async def test_a_step_that_cannot_connect_names_the_step(demo: Demo, closed_port: int) -> None:
    result = await probe(zebra_flow(demo, url=f"http://127.0.0.1:{closed_port}{FLAGS}"))
    assert (result.reason, result.detail, result.http_status_code) == (
        REASON_CONNECT_ERROR,
        f'step "admin_feature_flags" (2 of 2): connection refused by 127.0.0.1:{closed_port}',
        None,
    )


async def test_every_configured_step_keeps_its_series_when_the_flow_stops_early(
    demo: Demo,
) -> None:
    target = zebra_target(demo)
    assert target.steps is not None
    demo.faults.drop("auth")
    state = TargetState(compile_plan(target))
    state.record(await probe(target.steps), 0.01, 1.0)
    series = {
        sample.labels["step"]: sample.value
        for family in probe_families([state])
        if family.name == PROBE_STEP_SUCCESS
        for sample in family.samples
    }
    assert series == {"login": 0.0, "admin_feature_flags": 0.0}


async def test_a_flow_cut_off_by_its_timeout_still_reports_every_step(demo: Demo) -> None:
    target = zebra_target(demo).model_copy(update={"timeout": 0.2})
    demo.faults.slow(FLAGS, 1)
    result, _ = await run_once(target)
    assert result.reason == REASON_TIMEOUT
    assert outcome(result) == [("login", False), ("admin_feature_flags", False)]


# Flows on a recording app: captures, cookies, secrets


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class App:
    url: str
    seen: list[Seen] = field(default_factory=list)

    def last(self, path: str) -> Seen:
        return [s for s in self.seen if s.path == path][-1]


def _app(seen: list[Seen]) -> Starlette:
    async def record(request: Request) -> None:
        headers = {k.decode(): v.decode() for k, v in request.headers.raw}
        seen.append(Seen(request.url.path, headers, await request.body()))

    async def login(request: Request) -> Response:
        await record(request)
        if (await request.json()).get("password") != PASSWORD:
            return JSONResponse({"detail": "wrong password"}, 401)
        body = {"token": TOKEN, "id": 42, "empty": "", "none": None, "user": {"roles": ["ops"]}}
        response = JSONResponse(body, headers={"X-Request-Token": TOKEN})
        response.set_cookie("session", "s1", httponly=True)
        return response

    async def login_redirect(request: Request) -> Response:
        response = RedirectResponse("/whoami", 303)
        response.set_cookie("session", "s1")
        return response

    async def logout(request: Request) -> Response:
        response = PlainTextResponse("bye")
        response.delete_cookie("session")
        return response

    async def whoami(request: Request) -> Response:
        await record(request)
        ok = request.cookies.get("session") == "s1"
        return JSONResponse({"cookies": request.cookies}, 200 if ok else 401)

    async def items(request: Request) -> Response:
        await record(request)
        ok = request.headers.get("authorization") == f"Bearer {TOKEN}"
        return PlainTextResponse("item", 200 if ok else 403)

    async def bounce(request: Request) -> Response:
        return RedirectResponse(request.url.path + "/again", 307)

    async def echo(request: Request) -> Response:
        await record(request)
        return PlainTextResponse("echoed")

    async def injected(request: Request) -> Response:
        return JSONResponse({"token": "a\r\nX-Injected: 1"})

    return Starlette(
        routes=[
            Route("/login", login, methods=["POST"]),
            Route("/login-redirect", login_redirect),
            Route("/logout", logout, methods=["POST"]),
            Route("/whoami", whoami),
            Route("/items/{token}", items),
            Route("/bounce/{rest:path}", bounce),
            Route("/echo", echo, methods=["POST"]),
            Route("/echo/{rest:path}", echo, methods=["POST"]),
            Route("/text", echo, methods=["POST"]),
            Route("/injected", injected),
        ]
    )


@pytest.fixture(scope="module")
def _app_server() -> Iterator[App]:
    seen: list[Seen] = []
    with serve_app(_app(seen)) as url:
        yield App(url, seen)


@pytest.fixture
def app(_app_server: App, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setenv("FLOW_PASSWORD", PASSWORD)
    _app_server.seen.clear()
    return _app_server


def login(app: App, **capture: Any) -> dict[str, Any]:
    return {
        "name": "login",
        "url": f"{app.url}/login",
        "method": "POST",
        "json": {"user": "ops", "password": "${password}"},
        "capture": capture or {"token": {"json_path": "$.token"}},
    }


def flow(*steps: dict[str, Any]) -> StepsSpec:
    variables = {"password": {"env": "FLOW_PASSWORD"}}
    return StepsSpec.model_validate({"variables": variables, "steps": list(steps)})


def step(name: str, url: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "url": url, **fields}


async def test_captures_go_into_urls_headers_and_json(app: App) -> None:
    captures = {
        "token": {"json_path": "$.token"},
        "id": {"json_path": "$.id", "secret": False},
        "roles": {"json_path": "$.user.roles"},
        "echoed": {"header": "x-request-token"},
    }
    item = step(
        "item", f"{app.url}/items/${{token}}", headers={"Authorization": "Bearer ${echoed}"}
    )
    sent = {"id": "${id}", "list": ["${roles}", "${token}!"], "n": 1}
    echo = step("echo", f"{app.url}/echo", method="POST", json=sent, body_checks=[])
    result = await probe(flow(login(app, **captures), item, echo))
    assert outcome(result) == [("login", True), ("item", True), ("echo", True)]
    assert app.last(f"/items/{TOKEN}").headers["authorization"] == f"Bearer {TOKEN}"
    assert json.loads(app.last("/echo").body) == {
        "id": "42",
        "list": ['["ops"]', f"{TOKEN}!"],
        "n": 1,
    }


@pytest.mark.parametrize(
    ("capture", "detail"),
    [
        ({"json_path": "$.access_token"}, "json_path $.access_token found nothing"),
        ({"json_path": "$.none"}, "json_path $.none found nothing"),
        ({"json_path": "$.empty"}, "json_path $.empty found nothing"),
        ({"header": "X-Missing"}, "header X-Missing found nothing"),
    ],
)
async def test_a_capture_that_finds_nothing_stops_the_flow(
    app: App, capture: dict[str, str], detail: str
) -> None:
    result = await probe(flow(login(app, token=capture), step("who", f"{app.url}/whoami")))
    assert (result.reason, result.detail, result.http_status_code) == (
        REASON_CAPTURE_FAILED,
        f'step "login" (1 of 2): capture token: {detail} in the response',
        200,
    )
    assert outcome(result) == [("login", False), ("who", False)]
    assert [s.path for s in app.seen] == ["/login"]


@pytest.mark.parametrize("path", ["$.x", "$"])
async def test_a_capture_from_a_body_that_is_not_json(app: App, path: str) -> None:
    text = step("text", f"{app.url}/text", method="POST", capture={"x": {"json_path": path}})
    result = await probe(flow(text))
    assert result.detail.endswith("found nothing in the response (the body is not JSON)")


async def test_cookies_set_by_a_step_are_sent_by_later_steps(app: App) -> None:
    result = await probe(flow(login(app), step("who", f"{app.url}/whoami")))
    assert outcome(result) == [("login", True), ("who", True)]
    assert app.last("/whoami").headers["cookie"] == "session=s1"
    assert "cookie" not in app.last("/login").headers


async def test_cookies_stay_with_their_host(app: App) -> None:
    other_host = app.url.replace("127.0.0.1", "localhost") + "/whoami"
    result = await probe(flow(login(app), step("who", other_host, valid_status_codes=[401])))
    assert result.success
    assert "cookie" not in app.last("/whoami").headers


async def test_a_cookie_the_server_deletes_is_not_sent_again(app: App) -> None:
    logout = step("logout", f"{app.url}/logout", method="POST")
    who = step("who", f"{app.url}/whoami", valid_status_codes=[401])
    assert (await probe(flow(login(app), logout, who))).success
    assert "cookie" not in app.last("/whoami").headers


async def test_cookies_set_on_a_redirect_reach_its_target(app: App) -> None:
    result = await probe(flow(step("in", f"{app.url}/login-redirect")))
    assert (result.success, result.http_status_code) == (True, 200)
    assert app.last("/whoami").headers["cookie"] == "session=s1"


async def test_secrets_never_reach_the_trace_or_the_detail(app: App) -> None:
    item = step("item", f"{app.url}/items/${{token}}", headers={"Authorization": "Bearer ${token}"})
    bounce = step("bounce", f"{app.url}/bounce/${{token}}", max_redirects=0)
    trace = Trace()
    result = await probe(flow(login(app), item, bounce), trace)
    assert outcome(result) == [("login", True), ("item", True), ("bounce", False)]
    assert app.last(f"/items/{TOKEN}").headers["authorization"] == f"Bearer {TOKEN}"
    text = "\n".join([*trace.lines, result.detail])
    assert PASSWORD not in text
    assert TOKEN not in text
    assert result.detail == (
        f'step "bounce" (3 of 3): status 307 redirects to {app.url}/bounce/<secret>/again '
        "after 0 redirect(s), the most max_redirects allows"
    )
    for line in ["captured token (secret)", "> GET /items/<secret> HTTP/1.1"]:
        assert line in trace.lines


async def test_a_secret_that_starts_another_leaves_no_part_of_either(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    short, long = "k7-abc", "k7-abcdef"
    monkeypatch.setenv("SHORT_SECRET", short)
    monkeypatch.setenv("LONG_SECRET", long)
    spec = StepsSpec.model_validate(
        {
            "variables": {"short": {"env": "SHORT_SECRET"}, "long": {"env": "LONG_SECRET"}},
            "steps": [
                step(
                    "echo",
                    f"{app.url}/echo/${{long}}/${{short}}",
                    method="POST",
                    headers={"X-Long": "${long}", "X-Short": "${short}"},
                )
            ],
        }
    )
    trace = Trace()
    result = await probe(spec, trace)
    assert result.success, result.detail
    assert app.last(f"/echo/{long}/{short}").headers["x-long"] == long
    assert "> POST /echo/<secret>/<secret> HTTP/1.1" in trace.lines
    assert "> X-Long: <secret>" in trace.lines
    assert "> X-Short: <secret>" in trace.lines
    text = "\n".join(trace.lines)
    assert "k7-" not in text
    assert "def" not in text


async def test_a_capture_marked_not_secret_shows_in_the_trace(app: App) -> None:
    trace = Trace()
    await probe(flow(login(app, id={"json_path": "$.id", "secret": False})), trace)
    assert "captured id = 42" in trace.lines


async def test_a_captured_line_break_cannot_inject_a_header(app: App) -> None:
    grab = step("grab", f"{app.url}/injected", capture={"token": {"json_path": "$.token"}})
    use = step("use", f"{app.url}/echo", method="POST", headers={"X-Token": "${token}"})
    result = await probe(flow(grab, use))
    assert (result.reason, result.detail) == (
        REASON_ERROR,
        "step \"use\" (2 of 2): header 'X-Token' has a bad name or a line break",
    )
    assert app.seen == []


async def test_a_flow_built_in_code_with_an_unset_variable_fails_as_an_error(app: App) -> None:
    result = await probe(flow(step("who", f"{app.url}/items/${{nope}}")))
    assert (result.reason, result.detail) == (
        REASON_ERROR,
        'step "who" (1 of 1): ${nope} has no value: nothing sets it earlier',
    )


def test_the_probe_command_shows_the_flow_with_secrets_masked(
    app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "flow.yaml"
    config.write_text(
        f"""
targets:
  - name: flow
    severity: high
    context: zebra_opportunity
    service: admin
    steps:
      variables: {{password: {{env: FLOW_PASSWORD}}}}
      steps:
        - {json.dumps(login(app))}
        - {json.dumps(step("item", f"{app.url}/items/${{token}}"))}
"""
    )
    assert main(["probe", "--config", str(config), "flow"]) == 1
    out = capsys.readouterr().out
    assert 'step 2/2 "item": GET ' + f"{app.url}/items/<secret>" in out
    assert 'failure (unexpected_status): step "item" (2 of 2): status 403' in out
    assert PASSWORD not in out
    assert TOKEN not in out
