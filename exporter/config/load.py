"""Parsing and validation: every problem at once, each with its path and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from exporter import yamlsource
from exporter.config import tenants
from exporter.config.alerting_refs import check_alerting
from exporter.config.app import check_app
from exporter.config.dependencies import check_dependencies
from exporter.config.limits import DEFAULT_LIMITS, ConfigLimits
from exporter.config.maintenance_refs import check_maintenance
from exporter.config.model import Config
from exporter.config.reading import read_text
from exporter.config.references import check_references
from exporter.yamlsource import Problem

EMPTY = "the config is empty: it must list at least one target"
NO_TARGETS = "must list at least one target: with none, nothing is probed and no alert can fire"


class ConfigError(Exception):
    """A config that cannot be used, with every problem found in it."""

    def __init__(self, problems: list[Problem], source: str = "<config>") -> None:
        self.problems = problems
        self.source = source
        super().__init__("\n".join(p.render(source) for p in problems))

    def __reduce__(self) -> tuple[type[ConfigError], tuple[list[Problem], str]]:
        return ConfigError, (self.problems, self.source)  # it crosses from the parsing child


def parse_config(
    text: str,
    source: str = "<config>",
    *,
    offline: bool = False,
    only_target: str | None = None,
    require_targets: bool = True,
) -> Config:
    """Parse and validate config text; raise ConfigError listing every problem.

    offline: check secret references and CA file names without reading them, for commands
    that only generate or check files (a CI runner has no production secrets).
    only_target: read the secrets and CA files of that target alone, and return a config
    that holds it alone (all targets, unresolved, if none has that name); the others are
    checked offline.
    require_targets: refuse a config without targets, as everything that probes must (a
    truncated deploy would stop all probing); the in-app gate and integration read the `app:`
    block alone, and a config for them alone may have none.
    """
    doc = yamlsource.load(text)
    problems = list(doc.problems)
    if problems and doc.data is None:
        raise ConfigError(problems, source)
    if doc.data is None:
        raise ConfigError([Problem("", EMPTY)], source)
    expansion = tenants.expand(doc.data, doc)
    problems += _no_targets(doc) if require_targets else []
    problems += expansion.problems
    problems += _duplicate_names(expansion, doc)
    offline = offline or only_target is not None
    try:
        config = Config.model_validate(expansion.data, context={"offline": offline})
    except ValidationError as err:
        problems += _from_pydantic(err, expansion, doc)
        raise ConfigError(_by_line(_unique(problems)), source) from None

    def report(path: tuple[str | int, ...], message: str) -> None:
        path = expansion.source_path(path)
        problems.append(Problem(yamlsource.format_path(path), message, doc.line_of(path)))

    check_references(config, report)
    check_dependencies(config, report)
    check_alerting(config, report)
    check_maintenance(config, report)
    check_app(config, report)
    if problems:
        raise ConfigError(_by_line(_unique(problems)), source)
    if only_target is not None:
        config = _with_target_resolved(expansion, doc, only_target, source) or config
    return config


def load_config(
    path: str | Path,
    *,
    offline: bool = False,
    only_target: str | None = None,
    limits: ConfigLimits = DEFAULT_LIMITS,
    require_targets: bool = True,
) -> Config:
    """Read and parse a config file (see parse_config for the keywords).

    Only `limits.max_size` applies here; see limits.py for the parse's time and memory.
    """
    try:
        text, problems = read_text(Path(path), limits)
    except OSError as err:
        raise ConfigError([Problem("", f"cannot read config: {err.strerror}")], str(path)) from None
    if problems:
        raise ConfigError(problems, str(path))
    return parse_config(
        text,
        str(path),
        offline=offline,
        only_target=only_target,
        require_targets=require_targets,
    )


def _no_targets(doc: yamlsource.Document) -> list[Problem]:
    if not isinstance(doc.data, dict) or doc.data.get("targets", []) != []:
        return []  # other shapes are pydantic's to report
    return [Problem("targets", NO_TARGETS, doc.line_of(("targets",)))]


def _with_target_resolved(
    expansion: tenants.Expansion, doc: yamlsource.Document, name: str, source: str
) -> Config | None:
    """Validate the named target again, reading its secrets and files: a config of it alone."""
    data = expansion.data
    found = [i for i, t in enumerate(data["targets"]) if t["name"] == name]
    if not found:
        return None
    one = tenants.Expansion({**data, "targets": [data["targets"][found[0]]]})
    one.origin = [expansion.origin[found[0]]]
    try:
        return Config.model_validate(one.data, context={"offline": False})
    except ValidationError as err:
        raise ConfigError(_by_line(_from_pydantic(err, one, doc)), source) from None


def _by_line(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.line or 0)


def _unique(problems: list[Problem]) -> list[Problem]:
    """One report per problem, though a per_tenant template repeats it for every tenant."""
    return list(dict.fromkeys(problems))


def _duplicate_names(expansion: tenants.Expansion, doc: yamlsource.Document) -> list[Problem]:
    data = expansion.data
    targets = data.get("targets") if isinstance(data, dict) else None
    if not isinstance(targets, list):
        return []
    first: dict[str, int] = {}
    problems = []
    for i, target in enumerate(targets):
        name = target.get("name") if isinstance(target, dict) else None
        if not isinstance(name, str):
            continue
        if name in first:
            path = expansion.source_path(("targets", i, "name"))
            other = expansion.source_path(("targets", first[name]))
            problems.append(
                Problem(
                    yamlsource.format_path(path),
                    f'duplicate target name "{name}" (also {yamlsource.format_path(other)})',
                    doc.line_of(path),
                )
            )
        else:
            first[name] = i
    return problems


def _from_pydantic(
    err: ValidationError, expansion: tenants.Expansion, doc: yamlsource.Document
) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for error in err.errors():
        path = _data_path(expansion.data, error["loc"], error["type"])
        path = expansion.source_path(path)
        message = _message(error)
        key = (yamlsource.format_path(path), message)
        if key not in seen:
            seen.add(key)
            problems.append(Problem(key[0], message, doc.line_of(path)))
    return problems


def _data_path(data: Any, loc: tuple[str | int, ...], kind: str) -> yamlsource.Path:
    """Follow pydantic's loc through the data, dropping union tags and validator names."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif not (last and kind in ("missing", "extra_forbidden")):
            continue
        path.append(part)
    return tuple(path)


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "unknown field",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
}


def _message(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "literal_error":
        return f"must be one of: {ctx['expected'].replace(' or ', ', ')}".replace("'", "")
    if kind == "greater_than":
        return f"must be greater than {ctx['gt']}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}"
    if kind == "too_short":
        return f"must have at least {ctx['min_length']} item(s)"
    if kind == "string_too_short":
        return "must not be empty"
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    msg: str = error["msg"]
    return msg[:1].lower() + msg[1:]
