"""The deployment-time inputs of a config: the environment variables and files the exporter
reads when it loads it (secrets `{env: ...}` / `{file: ...}`, CA files and the like).

On Kubernetes each becomes a key of one Secret: an environment variable from a secretKeyRef of
the same name, a file mounted from a key named as the file. Their values never appear in a
generated manifest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath
from typing import Any

from pydantic import BaseModel

from exporter.config import Config, SecretSource
from exporter.generate.kubernetes.meta import KubernetesError

_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


@dataclass(frozen=True, slots=True)
class Inputs:
    """Environment variable names and file paths, sorted; files by their absolute path."""

    env: tuple[str, ...]
    files: tuple[PurePosixPath, ...]

    def directories(self) -> dict[PurePosixPath, tuple[PurePosixPath, ...]]:
        """Each directory the files are in, with its files: one mount each."""
        out: dict[PurePosixPath, list[PurePosixPath]] = {}
        for path in self.files:
            out.setdefault(path.parent, []).append(path)
        return {directory: tuple(paths) for directory, paths in sorted(out.items())}


def inputs(config: Config) -> Inputs:
    """What the exporter reads besides its config file, found anywhere in the targets."""
    env: set[str] = set()
    files: set[PurePosixPath] = set()
    for value in _walk(config.targets):
        if isinstance(value, SecretSource) and value.env is not None:
            env.add(value.env)
        elif isinstance(value, PurePath):
            files.add(_absolute(value))
    found = Inputs(tuple(sorted(env)), tuple(sorted(files)))
    _check_keys(found)
    return found


def secret_key(path: PurePosixPath) -> str:
    """The Secret key a file is mounted from: its name."""
    return path.name


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item)


def _absolute(path: PurePath) -> PurePosixPath:
    # The image's working directory is /, where the exporter resolves a relative path.
    return PurePosixPath("/", path.as_posix())


def _check_keys(found: Inputs) -> None:
    users: dict[str, list[str]] = {}
    for name in found.env:
        users.setdefault(name, []).append(f"environment variable {name}")
    for path in found.files:
        users.setdefault(secret_key(path), []).append(f"file {path}")
    problems = [
        f"{' and '.join(names)} would share the Secret key {key!r}"
        for key, names in users.items()
        if len(names) > 1
    ]
    problems += [
        f"{key!r} cannot be a Secret key (letters, digits, '-', '_' and '.' only)"
        for key in users
        if not _SECRET_KEY.match(key)
    ]
    if problems:
        raise KubernetesError("; ".join(problems))
