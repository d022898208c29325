"""`business-exporter validate-app MODULE:ATTR --config FILE`: the deploy gate.

Imports the app as a server would (MODULE from --app-dir, default the current directory, as
uvicorn's --app-dir) and checks that every route the config requires is registered with its
method. Prints each missing route, and every error raised or logged while the app loaded: the
seeds' release logged its failed import and served on without its login and admin routes.
Exit 0 when every route is there, 1 when one is missing or the import failed, 2 on a bad
config or an app that cannot be found. Reads no secret.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exporter.integration.capture import LoggedErrors
from exporter.integration.routes import NotAnApp, RequiredRoute, missing, registered_routes

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class AppNotFound(Exception):
    """MODULE:ATTR names no module, or no attribute of it."""


@dataclass
class Loaded:
    """What importing the app gave: the app, or the error that stopped the import."""

    app: Any = None
    error: str = ""  # the traceback of an exception the import raised
    logged: list[str] = field(default_factory=list)


def validate_app(
    target: str,
    config_path: Path,
    app_dir: Path = Path("."),
    factory: bool = False,
    strict: bool = False,
) -> int:
    """Run the gate and print its report; return the exit code."""
    required = _required(config_path)
    if required is None:
        return EXIT_USAGE
    try:
        loaded = load_app(target, app_dir, factory)
    except AppNotFound as err:
        print(f"validate-app: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(f"validate-app {target}: {len(required)} required routes from {config_path}")
    for line in loaded.logged:
        print(f"error logged while importing {target}:\n{_indent(line)}")
    if loaded.error:
        print(f"error raised while importing {target}:\n{_indent(loaded.error)}")
        print(f"FAILED: {target} could not be imported")
        return EXIT_FAILED
    return _report(target, loaded, required, strict)


def _report(target: str, loaded: Loaded, required: list[RequiredRoute], strict: bool) -> int:
    try:
        absent = missing(required, registered_routes(loaded.app))
    except NotAnApp as err:
        print(f"FAILED: {target}: {err}")
        return EXIT_FAILED
    for route in absent:
        print(f"MISSING {route}")
    if absent:
        print(f"FAILED: {len(absent)} of {len(required)} required routes are not registered")
        return EXIT_FAILED
    if strict and loaded.logged:
        print(f"FAILED: every required route is registered, but {target} logged errors (--strict)")
        return EXIT_FAILED
    print(f"OK: all {len(required)} required routes are registered")
    return EXIT_OK


def _required(config_path: Path) -> list[RequiredRoute] | None:
    from exporter.config import ConfigError, load_config
    from exporter.config.app import degrade_routes, required_routes

    try:
        # A CI job has no probe secrets; a config for the gate alone may list no target.
        config = load_config(config_path, offline=True, require_targets=False)
    except ConfigError as err:
        print(f"{config_path}: invalid config:\n{err}", file=sys.stderr)
        return None
    routes, degrade = required_routes(config), set(degrade_routes(config))
    if not routes:
        print(
            f"{config_path}: requires no route: list routes in an openapi target or app.routes",
            file=sys.stderr,
        )
        return None
    return [RequiredRoute(r, "degrade" if r in degrade else "fail_fast") for r in routes]


def load_app(target: str, app_dir: Path, factory: bool) -> Loaded:
    """Import MODULE:ATTR with app_dir first on sys.path; AppNotFound when it is not there."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise AppNotFound(f"{target!r} must be MODULE:ATTRIBUTE, such as app.main:app")
    sys.path.insert(0, str(app_dir.resolve()))
    loaded = Loaded()
    with LoggedErrors() as logged:
        try:
            module = importlib.import_module(module_name)
            loaded.app = _attribute(module, attribute, target)
            if factory:
                loaded.app = loaded.app()
        except AppNotFound:
            raise
        except ModuleNotFoundError as err:
            if err.name is not None and f"{module_name}.".startswith(f"{err.name}."):
                raise AppNotFound(f"no module {err.name!r} (app dir {app_dir})") from None
            loaded.error = traceback.format_exc()  # the app's own import of a module failed
        except Exception:
            loaded.error = traceback.format_exc()
    loaded.logged = logged.lines()
    return loaded


def _attribute(module: Any, path: str, target: str) -> Any:
    node = module
    for name in path.split("."):
        if not hasattr(node, name):
            raise AppNotFound(f"{target}: module {module.__name__!r} has no {path!r}")
        node = getattr(node, name)
    return node


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.rstrip().splitlines())
