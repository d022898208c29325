"""`business-exporter validate-app`, run as a CI job runs it: a process importing a real app."""

from __future__ import annotations

from pathlib import Path

from tests.integration.apps import (
    APP_ONLY_ROUTE,
    IMPORT_ERROR,
    LOGGED,
    ROUTERS,
    ROUTES,
    business_exporter,
    config_file,
    release,
)


def test_the_gate_stops_the_seeds_release_naming_each_lost_route_and_the_logged_error(
    tmp_path: Path,
) -> None:
    broken = release(tmp_path, broken=True)
    config = config_file(tmp_path)
    done = business_exporter("validate-app", broken.target(), "--config", str(config), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    missing = [line.removeprefix("MISSING ") for line in done.stdout.splitlines()]
    assert [line for line in missing if line in {*ROUTES, APP_ONLY_ROUTE}] == [
        *ROUTES,
        APP_ONLY_ROUTE,
    ]
    assert f"error logged while importing {broken.target()}" in done.stdout
    assert LOGGED in done.stdout
    assert IMPORT_ERROR in done.stdout
    assert "FAILED: 7 of 7 required routes are not registered" in done.stdout


def test_the_gate_passes_the_fixed_release(tmp_path: Path) -> None:
    fixed = release(tmp_path, broken=False)
    config = config_file(tmp_path)
    done = business_exporter("validate-app", fixed.target(), "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "MISSING" not in done.stdout
    assert "OK: all 7 required routes are registered" in done.stdout


def test_a_route_registered_with_another_method_is_missing(tmp_path: Path) -> None:
    fixed = release(tmp_path, broken=False)
    config = config_file(tmp_path, routes=["GET /api/v1/auth/login", "POST /api/v1/users"])
    done = business_exporter("validate-app", fixed.target(), "--config", str(config), cwd=tmp_path)
    assert done.returncode == 1
    assert "MISSING GET /api/v1/auth/login\nMISSING POST /api/v1/users\n" in done.stdout


def test_a_route_of_the_app_block_alone_is_checked_too(tmp_path: Path) -> None:
    fixed = release(tmp_path, broken=False)
    config = config_file(tmp_path, app_routes=["GET /api/v1/admin/audit-log"])
    done = business_exporter("validate-app", fixed.target(), "--config", str(config), cwd=tmp_path)
    assert done.returncode == 1
    assert "MISSING GET /api/v1/admin/audit-log" in done.stdout


def test_a_config_for_the_gate_alone_needs_no_target(tmp_path: Path) -> None:
    """`serve` refuses a config without targets; the gate reads the `app:` block alone."""
    fixed = release(tmp_path, broken=False)
    config = tmp_path / "gate.yaml"
    config.write_text("app:\n  routes: [GET /api/v1/admin/audit-log, POST /api/v1/auth/login]\n")
    done = business_exporter("validate-app", fixed.target(), "--config", str(config), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "MISSING GET /api/v1/admin/audit-log\n" in done.stdout
    assert "MISSING POST /api/v1/auth/login" not in done.stdout


def test_the_app_dir_is_searched_first_as_uvicorn_does(tmp_path: Path) -> None:
    fixed = release(tmp_path / "srv", broken=False)
    config = config_file(tmp_path)
    args = ("validate-app", fixed.target(), "--config", str(config))
    assert business_exporter(*args, cwd=tmp_path).returncode == 2  # not in the current directory
    done = business_exporter(*args, "--app-dir", str(fixed.app_dir), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_import_that_raises_fails_the_gate_with_its_traceback(tmp_path: Path) -> None:
    broken = release(tmp_path, broken=True)
    config = config_file(tmp_path)
    # No try/except around this import: the module itself fails to load.
    target = f"{broken.package}.api:api_router"
    done = business_exporter("validate-app", target, "--config", str(config), cwd=tmp_path)
    assert done.returncode == 1
    assert f"error raised while importing {target}" in done.stdout
    assert "Traceback" in done.stdout
    assert f"ImportError: {IMPORT_ERROR}" in done.stdout
    assert f"FAILED: {target} could not be imported" in done.stdout


def test_a_module_of_the_app_that_is_missing_fails_the_gate_and_is_no_usage_error(
    tmp_path: Path,
) -> None:
    broken = release(tmp_path, broken=True)
    router = tmp_path / broken.package / "routers" / "user_management.py"
    router.write_text("import marketedge_models  # a dependency the release forgot\n")
    target = f"{broken.package}.api:api_router"
    done = business_exporter(
        "validate-app", target, "--config", str(config_file(tmp_path)), cwd=tmp_path
    )
    assert done.returncode == 1
    assert "ModuleNotFoundError: No module named 'marketedge_models'" in done.stdout


def test_an_app_that_cannot_be_found_is_exit_2(tmp_path: Path) -> None:
    fixed = release(tmp_path, broken=False)
    config = str(config_file(tmp_path))
    for target, says in (
        ("no_such_module:app", "no module 'no_such_module'"),
        (f"{fixed.package}.no_such_module:app", f"no module '{fixed.package}.no_such_module'"),
        (f"{fixed.package}.main:application", "has no 'application'"),
        (f"{fixed.package}.main", "must be MODULE:ATTRIBUTE"),
    ):
        done = business_exporter("validate-app", target, "--config", config, cwd=tmp_path)
        assert done.returncode == 2, target
        assert says in done.stderr, target


def test_a_bad_config_is_exit_2_listing_its_problems(tmp_path: Path) -> None:
    fixed = release(tmp_path, broken=False)
    for config, problem in (
        (config_file(tmp_path, routes=["/api/v1/users"]), "targets[0].openapi.routes[0]: must be"),
        (config_file(tmp_path, degrade=["users"]), "app.degrade[0]: must be"),
    ):
        args = ("validate-app", fixed.target(), "--config", str(config))
        done = business_exporter(*args, cwd=tmp_path)
        assert done.returncode == 2
        assert "invalid config" in done.stderr
        assert problem in done.stderr


def test_a_config_that_requires_no_route_is_exit_2(tmp_path: Path) -> None:
    fixed = release(tmp_path, broken=False)
    config = tmp_path / "empty.yaml"
    config.write_text("targets: []\n")
    done = business_exporter("validate-app", fixed.target(), "--config", str(config), cwd=tmp_path)
    assert done.returncode == 2
    assert "requires no route" in done.stderr


def test_the_gate_reads_no_secret(tmp_path: Path) -> None:
    """A CI job has none of the probes' passwords: the config's secrets stay unread."""
    fixed = release(tmp_path, broken=False)
    config = tmp_path / "with-secrets.yaml"
    config.write_text(
        "targets:\n"
        "  - {name: db, severity: critical, context: c, service: db,\n"
        "     postgres: {host: db, user: u, password: {env: UNSET_DB_PASSWORD}}}\n"
        "  - {name: api, severity: critical, context: c, service: api,\n"
        "     openapi: {url: 'http://127.0.0.1:8000/openapi.json', routes: [GET /health]}}\n"
    )
    done = business_exporter("validate-app", fixed.target(), "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_strict_fails_on_an_error_logged_while_importing(tmp_path: Path) -> None:
    """Every required route is there, but another router failed: --strict says so."""
    broken = release(tmp_path, broken=True)
    config = config_file(tmp_path, routes=["GET /health"], app_routes=[])
    args = ("validate-app", broken.target(), "--config", str(config))
    relaxed = business_exporter(*args, cwd=tmp_path)
    assert relaxed.returncode == 0
    assert LOGGED in relaxed.stdout  # said, even when it does not fail the gate
    strict = business_exporter(*args, "--strict", cwd=tmp_path)
    assert strict.returncode == 1
    assert "logged errors (--strict)" in strict.stdout


def test_the_gate_sees_routes_through_mounts_and_middleware_of_a_starlette_app(
    tmp_path: Path,
) -> None:
    (tmp_path / "plain_app.py").write_text(STARLETTE_APP)
    routes = [*ROUTERS["auth"], "GET /api/v1/users/{user_id}", "GET /status"]
    config = config_file(tmp_path, routes=routes, app_routes=["DELETE /api/v1/users/{id}"])
    done = business_exporter("validate-app", "plain_app:app", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert [line for line in done.stdout.splitlines() if line.startswith("MISSING")] == [
        "MISSING POST /api/v1/auth/refresh",
        "MISSING DELETE /api/v1/users/{id}",
    ]


STARLETTE_APP = """
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Host, Mount, Route


async def ok(request):
    return PlainTextResponse("ok")


auth = Mount("/auth", routes=[Route("/login", ok, methods=["POST"])])
users = Route("/users/{user_id:int}", ok, methods=["GET", "PUT"])
app = Starlette(
    routes=[
        Mount("/api/v1", routes=[auth, users]),
        Host("status.example.com", app=Starlette(routes=[Route("/status", ok)])),
    ]
)
app = GZipMiddleware(app)
"""
