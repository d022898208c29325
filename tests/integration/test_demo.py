"""The demo API runs the integration, and passes the gate on the reference config."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from exporter.config import load_config
from exporter.config.app import required_routes
from exporter.demo.app import create_demo_app
from tests.integration.apps import ROOT, business_exporter, running

REFERENCE = ROOT / "examples" / "marketedge.yaml"
ADMIN = ["GET /api/v1/admin/feature-flags", "GET /api/v1/admin/dashboard/stats"]


def test_the_demo_api_validates_its_routers_and_says_it_is_ready() -> None:
    with running(create_demo_app()) as demo:
        assert httpx.get(f"{demo.url}/health/ready").json() == {"status": "ready", "reasons": []}
        report = httpx.get(f"{demo.url}/health/detailed").json()
        assert report["startup"]["outcome"] == "passed"
        policies = {c["name"]: c["policy"] for c in report["components"]}
        assert len(policies) == 8  # every route of the demo's routers
        assert [name for name, policy in policies.items() if policy == "degrade"] == ADMIN
        metrics = httpx.get(f"{demo.url}/metrics").text
        assert 'business_app_route_registered{policy="degrade",route="GET /api/v1/admin' in metrics
        assert "business_app_ready 1.0" in metrics


@pytest.mark.parametrize("from_environment", [False, True])
def test_the_demo_api_takes_its_required_routes_from_a_config(
    from_environment: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if from_environment:
        monkeypatch.setenv("BUSINESS_EXPORTER_CONFIG", str(REFERENCE))
        app = create_demo_app()
    else:
        app = create_demo_app(REFERENCE)
    required = required_routes(load_config(REFERENCE, offline=True))
    with running(app) as demo:
        report = httpx.get(f"{demo.url}/health/detailed").json()
    assert [c["name"] for c in report["components"]] == required
    assert "GET /api/v1/features" in required  # the reference's app.routes
    assert report["status"] == "ready"


def test_the_gate_passes_the_demo_api_on_the_reference_config(tmp_path: Path) -> None:
    target = "exporter.demo.app:create_demo_app"
    done = business_exporter(
        "validate-app", target, "--factory", "--config", str(REFERENCE), cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: all 8 required routes are registered" in done.stdout
