"""Secrets a server echoes stay masked, for every HTTP-speaking kind and on the command line.

The recording app's `/reflect` quotes the Authorization (or X-Api-Key) it was sent in headers
(as is, form-encoded, percent-encoded in lower-case hex), in a `Location` (percent-encoded)
and in its JSON body, behind padding that puts the secret across the cut of a body excerpt.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from exporter.cli import main
from exporter.config import HTTPSpec
from exporter.config.openapi import OpenAPISpec
from exporter.config.steps import StepsSpec
from exporter.conventions import REASON_BODY_MISMATCH, REASON_UNEXPECTED_STATUS
from exporter.probes import ProbeResult, Trace, http, openapi, steps
from exporter.probes._mask import Mask, no_plan, prepare, the_spec
from tests.probes.conftest import AppServer

TOKEN = 'ech0/Tok+en="91f'  # a slash, a plus and a quote: each encoding writes it differently
PASSWORD = "pa55 w0rd/?&"
BEARER = {"env": "ECHO_TOKEN", "prefix": "Bearer "}
BASIC = {"username": "probe", "password": {"env": "ECHO_PASSWORD"}}


def forms(secret: str) -> list[str]:
    """The ways a server may quote `secret` back."""
    encoded = quote(secret, safe="")
    lower = re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded)
    return [secret, encoded, lower, quote_plus(secret), json.dumps(secret)[1:-1]]


LEAKS = [
    *forms(TOKEN),
    *forms(PASSWORD),
    *forms(base64.b64encode(f"probe:{PASSWORD}".encode()).decode()),
    "ech0",  # a piece of the token, as a cut excerpt would leave it
    "91f",
    "w0rd",
]


def leaks(text: str) -> list[str]:
    return [form for form in LEAKS if form in text]


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECHO_TOKEN", TOKEN)
    monkeypatch.setenv("ECHO_PASSWORD", PASSWORD)


def shown(trace: Trace, result: ProbeResult) -> str:
    return "\n".join([*trace.lines, result.detail])


@pytest.mark.parametrize(
    "auth",
    [
        {"headers": {"Authorization": BEARER}},
        {"headers": {"X-Api-Key": {"env": "ECHO_TOKEN"}}},
        {"basic_auth": BASIC},
    ],
    ids=["bearer", "api-key", "basic-auth"],
)
@pytest.mark.usefixtures("secrets")
async def test_http_masks_what_the_server_echoes_in_headers_location_and_body(
    app_server: AppServer, auth: dict[str, Any]
) -> None:
    checks = [{"json_path": "$.echo", "equals": "nope"}]
    spec = HTTPSpec.model_validate(
        {"url": f"{app_server.url}/reflect", "body_checks": checks, **auth}
    )
    trace = Trace()
    result = await http.probe(spec, trace)
    assert result.reason == REASON_BODY_MISMATCH
    assert (
        result.detail == f'body_checks[0] json_path $.echo equals "nope": is "{"x" * 40}<secret>"'
    )
    assert leaks(shown(trace, result)) == []
    for line in ["< x-echo: <secret>", "< x-echo-form: <secret>", "< x-echo-lower: <secret>"]:
        assert line in trace.lines
    assert "< location: /landing?auth=<secret>" in trace.lines
    assert app_server.url + "/reflect" in trace.lines[0]  # what is not secret still shows


@pytest.mark.usefixtures("secrets")
async def test_http_masks_a_secret_in_the_redirect_it_refuses_to_follow(
    app_server: AppServer,
) -> None:
    url = f"{app_server.url}/reflect?status=302"
    spec = HTTPSpec.model_validate(
        {"url": url, "headers": {"Authorization": BEARER}, "max_redirects": 0}
    )
    trace = Trace()
    result = await http.probe(spec, trace)
    assert (result.reason, result.detail) == (
        REASON_UNEXPECTED_STATUS,
        f"status 302 redirects to {app_server.url}/landing?auth=<secret> after 0 redirect(s), "
        f"the most max_redirects allows",
    )
    assert leaks(shown(trace, result)) == []


@pytest.mark.usefixtures("secrets")
async def test_steps_mask_what_the_server_echoes(app_server: AppServer) -> None:
    spec = StepsSpec.model_validate(
        {
            "variables": {"token": {"env": "ECHO_TOKEN"}},
            "steps": [
                {
                    "name": "reflect",
                    "url": f"{app_server.url}/reflect?status=302",
                    "headers": {"Authorization": "Bearer ${token}"},
                    "max_redirects": 0,
                }
            ],
        }
    )
    trace = Trace()
    result = await steps.probe(spec, trace)
    # The variable is the token alone: the `Bearer ` the step puts before it is no secret.
    landing = f"{app_server.url}/landing?auth=Bearer%20<secret>"
    assert result.detail.startswith(f'step "reflect" (1 of 1): status 302 redirects to {landing} ')
    assert "< location: /landing?auth=Bearer%20<secret>" in trace.lines
    assert leaks(shown(trace, result)) == []


@pytest.mark.usefixtures("secrets")
async def test_openapi_masks_what_the_server_echoes(app_server: AppServer) -> None:
    spec = OpenAPISpec.model_validate(
        {
            "url": f"{app_server.url}/reflect?status=302",
            "headers": {"Authorization": BEARER},
            "routes": ["GET /users"],
        }
    )
    trace = Trace()
    result = await openapi.probe(spec, trace)
    assert result.detail.startswith(f"{app_server.url}/reflect?status=302 is not JSON")  # /landing
    assert "redirect 1: 302 to GET " + f"{app_server.url}/landing?auth=<secret>" in trace.lines
    assert "< x-echo: <secret>" in trace.lines
    assert leaks(shown(trace, result)) == []


@pytest.mark.usefixtures("secrets")
def test_the_probe_command_masks_what_the_server_echoes(
    app_server: AppServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "echo.yaml"
    http_block = {
        "url": f"{app_server.url}/reflect?status=302",
        "headers": {"Authorization": BEARER},
    }
    config.write_text(
        "targets:\n  - name: echo\n    severity: high\n    context: security\n"
        f"    service: api\n    http: {json.dumps(http_block)}\n"
    )
    assert main(["probe", "--config", str(config), "echo"]) == 0
    out = capsys.readouterr().out
    assert "> Authorization: <secret>" in out
    assert "< location: /landing?auth=<secret>" in out
    assert f"redirect 1: 302 to GET {app_server.url}/landing?auth=<secret>" in out
    assert leaks(out) == []


@pytest.mark.usefixtures("secrets")
async def test_an_error_that_quotes_a_secret_shows_it_masked(
    app_server: AppServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"a bug that quotes {quote(TOKEN)}")

    monkeypatch.setattr(http, "follow", broken)  # the fault: a probe with a bug in it
    trace = Trace()
    result = await http.probe(HTTPSpec.model_validate(bearer_spec(app_server)), trace)
    assert (result.reason, result.detail) == ("error", "RuntimeError: a bug that quotes <secret>")
    assert leaks(shown(trace, result)) == []


@pytest.mark.usefixtures("secrets")
async def test_a_probe_that_raises_is_logged_with_its_traceback_masked(
    app_server: AppServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def raising(spec: HTTPSpec, plan: None, trace: Trace | None) -> ProbeResult:
        raise RuntimeError(f"a bug that quotes {TOKEN}")

    trace = Trace()
    spec = HTTPSpec.model_validate(bearer_spec(app_server))
    with caplog.at_level(logging.ERROR):
        result = await prepare(spec, no_plan, raising, the_spec)(trace)
    detail = "the probe raised RuntimeError: a bug that quotes <secret>"
    assert (result.reason, result.detail) == ("error", detail)
    assert trace.lines == [f"crashed: {detail}"]
    assert "Traceback (most recent call last)" in caplog.text
    assert "RuntimeError: a bug that quotes <secret>" in caplog.text
    assert leaks(caplog.text) == []


def bearer_spec(app_server: AppServer) -> dict[str, Any]:
    return {"url": f"{app_server.url}/reflect", "headers": {"Authorization": BEARER}}


# The mask itself


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("token a b/c+d here", "token <secret> here"),
        ("?t=a%20b%2Fc%2Bd&x=1", "?t=<secret>&x=1"),
        ("?t=a+b%2fc%2bd", "?t=<secret>"),  # a form's + for the space, lower-case hex
        ("%61 b/c+d", "<secret>"),  # even characters that need no encoding
        ("a b/c+", "a b/c+"),  # not the whole secret: nothing to hide
    ],
)
def test_a_secret_is_masked_raw_and_percent_encoded(text: str, masked: str) -> None:
    assert Mask(("a b/c+d",))(text) == masked


def test_a_secret_is_masked_json_escaped() -> None:
    mask = Mask(('say "hi"\\',))
    assert mask(json.dumps({"v": 'say "hi"\\'})) == '{"v": "<secret>"}'


def test_overlapping_secrets_leave_no_part_of_either() -> None:
    mask = Mask(("abcd", "cdef", "k7-abc", "k7-abcdef"))
    assert mask("1 abcdef 2") == "1 <secret> 2"
    assert mask("k7-abcdef k7-abc") == "<secret> <secret>"
    assert mask("xabcdabcdx") == "x<secret>x"


def test_masking_twice_changes_nothing_more() -> None:
    mask = Mask(("secret",))  # a secret that the placeholder itself holds
    once = mask("a secret b")
    assert once == "a <secret> b"
    assert mask(once) == once
