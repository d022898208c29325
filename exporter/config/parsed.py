"""A config as the long-running exporter receives it: each target pickled on its own.

Unpickled whole, the models of 10,000 targets take some 36 MiB while their plans are
compiled, and the plans compiled meanwhile land among them: once the models are dropped, the
allocator can hand back little of that (bench/memory.py: 7.4 MiB per 1,000 targets, against
3.7 with the compacted models this replaced). Pickled one by one, each target is unpickled,
compiled and dropped in turn (exporter/runtime.py), and one whose digest says it is unchanged
is not unpickled at all.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from exporter.config.model import Config, Target
from exporter.config.tls import ClientTLS
from exporter.config.types import SecretSource


@dataclass(frozen=True, slots=True)
class PickledTarget:
    """One parsed target, pickled, with the digest of its config (plan.target_digest)."""

    name: str
    digest: bytes
    data: bytes
    hung_share: float  # timeout / interval: the probe slots it would hold if it hung

    def load(self) -> Target:
        target: Target = pickle.loads(self.data)  # pickled by our own parser
        return target


@dataclass(slots=True)
class Parsed:
    """A parsed config: the rest of it as models, its targets each pickled on its own."""

    rest: Config  # without its targets
    targets: tuple[PickledTarget, ...]
    # (path, the raw value read from it for a secret, else None) of each deployment file.
    files: tuple[tuple[Path, str | None], ...]

    @classmethod
    def of(cls, config: Config) -> Parsed:
        from exporter.plan import target_digest  # the plans' module imports this package

        targets = tuple(
            PickledTarget(
                t.name,
                target_digest(t),
                pickle.dumps(t, pickle.HIGHEST_PROTOCOL),
                t.timeout / t.interval,
            )
            for t in config.targets
        )
        files = tuple(deployment_files(config))
        return cls(config.model_copy(update={"targets": []}), targets, files)

    def release(self) -> None:
        """Forget the targets, once compiled: whoever handed this over (serve and its caller)
        may hold it for as long as the exporter runs, and 10,000 pickled targets take 20 MB."""
        self.targets, self.files = (), ()

    def whole(self) -> Config:
        """The config with its targets, all unpickled."""
        return self.rest.model_copy(update={"targets": [t.load() for t in self.targets]})


def deployment_files(value: Any) -> Iterator[tuple[Path, str | None]]:
    """(path, the raw value read from it for a secret, else None) of every file the config
    names for the parse to read, wherever it is in the config."""
    if isinstance(value, SecretSource):
        if value.file is not None:
            yield value.file, value.reveal()[len(value.prefix) :]
    elif isinstance(value, ClientTLS):
        for file in (value.ca_file, value.cert_file, value.key_file):
            if file is not None:
                yield file, None
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from deployment_files(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from deployment_files(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from deployment_files(item)
