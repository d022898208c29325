"""depends_on: the targets whose failure another target's alerts are only a symptom of.

A target's `depends_on`, and its service's (`services: {NAME: {depends_on: [...]}}`), name
targets or services. A target name is that target. A service name is that service's targets in
the dependent's tenant, or all of them when it has none there (a service every tenant shares,
such as auth); a target is never its own dependency through its service. The generator turns
the graph into inhibit rules (exporter/generate/alertmanager/inhibition.py); here it is resolved and
checked: unknown names, cycles, and dependencies that alert nobody.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from exporter.config.model import Config, Target
from exporter.config.references import Report, undefined

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Edge:
    """`dependent` needs `dependency`, as the config says at `path`."""

    dependent: str
    dependency: str
    path: Path


def direct_dependencies(config: Config) -> dict[str, tuple[str, ...]]:
    """Each target's dependencies as the config states them, by name, in config order."""
    out: dict[str, tuple[str, ...]] = {}
    for edge in _edges(config):
        if edge.dependency not in out.get(edge.dependent, ()):
            out[edge.dependent] = (*out.get(edge.dependent, ()), edge.dependency)
    return out


def all_dependencies(config: Config) -> dict[str, tuple[str, ...]]:
    """Each target's dependencies and theirs, transitively, in config order (cycles ignored:
    check_dependencies reports them)."""
    direct = direct_dependencies(config)
    order = {t.name: i for i, t in enumerate(config.targets)}
    out = {}
    for name in direct:
        seen: set[str] = set()
        todo = list(direct[name])
        while todo:
            dependency = todo.pop()
            if dependency not in seen and dependency != name:
                seen.add(dependency)
                todo += direct.get(dependency, ())
        out[name] = tuple(sorted(seen, key=order.__getitem__))
    return out


def check_dependencies(config: Config, report: Report) -> None:
    """Report unknown names, services no target has, cycles, and dependencies without alerts."""
    services = {t.service for t in config.targets}
    for name in config.services:
        if name not in services:
            report(("services", name), undefined(name, "the targets' services", services))
    names = {t.name for t in config.targets} | services
    for path, name, _ in _declarations(config):
        if name not in names:
            report(path, undefined(name, "targets or services", names))
    for path, name, resolved in _declarations(config):
        if name in names and resolved and not any(t.alert for t in resolved):
            report(
                path,
                f"{name!r} has no alert: its failure would notify nobody while it mutes the "
                f"alerts of what depends on it",
            )
    for cycle, path in _cycles(config):
        report(path, f"a dependency cycle: {' -> '.join(cycle)}")


def _declarations(config: Config) -> Iterator[tuple[Path, str, list[Target]]]:
    """(path, name, resolved targets) of every depends_on entry, for one dependent each."""
    for i, target in enumerate(config.targets):
        for j, name in enumerate(target.depends_on):
            yield ("targets", i, "depends_on", j), name, _resolve(config, target, name)
    for service, spec in config.services.items():
        for j, name in enumerate(spec.depends_on):
            path: Path = ("services", service, "depends_on", j)
            for target in config.targets:
                if target.service == service:
                    yield path, name, _resolve(config, target, name)


def _edges(config: Config) -> Iterator[Edge]:
    for i, target in enumerate(config.targets):
        for j, name in enumerate(target.depends_on):
            for dependency in _resolve(config, target, name):
                yield Edge(target.name, dependency.name, ("targets", i, "depends_on", j))
        spec = config.services.get(target.service)
        for j, name in enumerate(spec.depends_on if spec else ()):
            path: Path = ("services", target.service, "depends_on", j)
            for dependency in _resolve(config, target, name):
                yield Edge(target.name, dependency.name, path)


def _resolve(config: Config, dependent: Target, name: str) -> list[Target]:
    """The targets `name` stands for in `dependent`'s depends_on (none when unknown)."""
    named = config.target(name)
    if named is not None:
        return [named]
    service = [t for t in config.targets if t.service == name]
    here = [t for t in service if t.tenant == dependent.tenant]
    return [t for t in here or service if t.name != dependent.name]


def _cycles(config: Config) -> list[tuple[list[str], Path]]:
    """Each cycle once, as a path of names back to its start, and the entry that closes it."""
    graph: dict[str, list[Edge]] = {}
    for edge in _edges(config):
        graph.setdefault(edge.dependent, []).append(edge)
    found: list[tuple[list[str], Path]] = []
    seen: set[frozenset[str]] = set()
    done: set[str] = set()

    def visit(name: str, stack: list[str]) -> None:
        stack.append(name)
        for edge in graph.get(name, ()):
            if edge.dependency in stack:
                cycle = stack[stack.index(edge.dependency) :]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    found.append(([*cycle, edge.dependency], edge.path))
            elif edge.dependency not in done:
                visit(edge.dependency, stack)
        stack.pop()
        done.add(name)

    for target in config.targets:
        if target.name not in done:
            visit(target.name, [])
    return found
