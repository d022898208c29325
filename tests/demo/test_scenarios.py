"""Each demo fault breaks exactly the targets the banner says it does, for the reason it says
(which decides between a violation's alert and BusinessCannotVerify): the reference config's
probes run against the demo API and the demo databases with the fault switched on."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from exporter.config import Config, Target, load_config
from exporter.conventions import RESULT_SUCCESS
from exporter.demo import backends
from exporter.demo.app import DEMO_PASSWORD, create_demo_app
from exporter.demo.fast import speed_up
from exporter.demo.relocate import relocated, url_address
from exporter.demo.run import API
from exporter.demo.scenarios import Fault, demo_faults
from exporter.scheduler import run_once
from tests.demo.conftest import REFERENCE
from tests.servers import serve_app

HTTP_KINDS = ("http", "steps", "openapi")


async def _failing(targets: Sequence[Target]) -> dict[str, str]:
    """The targets that fail two runs in a row (a fault fails both, a busy moment rarely does),
    with the reason of the second."""
    failing: dict[str, str] | None = None
    for _ in range(2):
        results = await asyncio.gather(*(run_once(t) for t in targets))
        failed = {t.name: r.reason for t, (r, _) in zip(targets, results, strict=True)}
        failed = {name: reason for name, reason in failed.items() if reason != RESULT_SUCCESS}
        failing = failed if failing is None else {n: failed[n] for n in failing if n in failed}
    return failing or {}


async def _healthy(targets: Sequence[Target]) -> None:
    """Wait until every target passes (a server just resumed may take a moment)."""
    async with asyncio.timeout(60):
        while await _failing(targets):
            pass


async def _check(fault: Fault, config: Config, targets: Sequence[Target]) -> None:
    await _healthy(targets)
    fault.apply()
    try:
        failing = await _failing(targets)
    finally:
        fault.undo()
    expected = {f.target.name: f.reason for f in fault.failures(config)}
    assert (fault.name, failing) == (fault.name, expected)


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZEBRA_DEMO_PASSWORD", DEMO_PASSWORD)
    monkeypatch.delenv(backends.POSTGRES_PASSWORD_ENV, raising=False)
    monkeypatch.delenv(backends.REDIS_PASSWORD_ENV, raising=False)
    backends.set_environment()  # shared by the servers and the config, as in the demo


@pytest.mark.usefixtures("demo_env")
async def test_each_api_fault_breaks_the_targets_it_names_and_no_other() -> None:
    app = create_demo_app()
    with serve_app(app) as url:
        api = url_address(url)
        assert api is not None
        config = speed_up(relocated(load_config(REFERENCE), {API: api}), 10)
        targets = [t for t in config.targets if t.kind in HTTP_KINDS]
        await _healthy(targets)
        faults = demo_faults(api, app.state.faults)
        assert [f.name for f in faults] == ["login_500", "admin_router_dropped", "slow_users"]
        assert [t.name for t in faults[0].broken(config)] == [
            "auth_login_endpoint",
            "critical_endpoints_auth_login",
            "zebra_admin_login_flow",
            "api_response_time_auth_login",
        ]
        for fault in faults:
            await _check(fault, config, targets)


@pytest.mark.usefixtures("demo_env")
async def test_each_database_fault_breaks_the_targets_it_names_and_no_other() -> None:
    with backends.started() as databases:
        assert databases.unavailable == {}
        config, _ = databases.adapted(load_config(REFERENCE))
        # A hung server is found out at the timeout: 5 s tells it from a busy machine.
        targets = [
            t.model_copy(update={"timeout": 5.0})
            for t in config.targets
            if t.kind in ("postgres", "redis")
        ]
        faults = demo_faults(API, create_demo_app().state.faults, databases)[3:]
        assert [f.name for f in faults] == ["rls_off", "postgres_paused", "redis_paused"]
        assert [t.name for t in faults[0].broken(config)] == ["tenant_isolation"]
        for fault in faults:
            await _check(fault, config, targets)
        await _healthy(targets)
