"""What a parsed config was made from, to tell a reload that nothing it reads has changed.

A config is the config file's bytes, the environment (fixed for the life of the process, and
inherited by the parsing child) and the deployment files it names: secrets read from a file,
and the TLS files whose readability the parse checks. When none of them changed, a reload
would parse to an equal config: 2 to 4 s of a child's CPU for 10,000 targets, and a peak that
the allocator keeps. Their digests say so in milliseconds.

The config file is digested before it is parsed, so that a change made during the parse
makes the next reload parse again. A secret file is digested after the parse and checked
against the value the parse read: if they differ, the inputs are unknown and the next reload
parses.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from exporter.config.isolated import load_parsed_isolated
from exporter.config.limits import ConfigLimits
from exporter.config.model import Config
from exporter.config.parsed import Parsed, deployment_files


@dataclass(frozen=True, slots=True)
class Inputs:
    """Digests of the config file and of each deployment file it names."""

    config: bytes
    files: tuple[tuple[Path, bytes], ...]

    def unchanged(self, path: Path, limits: ConfigLimits) -> bool:
        """Whether the file at `path` and every deployment file still read the same."""
        if file_digest(path, limits.max_size) != self.config:
            return False
        return all(file_digest(name) == digest for name, digest in self.files)


# A config parsed, with what it was parsed from (None if that is not known).
Loaded = tuple[Parsed, Inputs | None]


def load_with_inputs(path: Path, limits: ConfigLimits, *, in_process_fallback: bool) -> Loaded:
    """load_parsed_isolated, and the inputs of the config it returns; raises ConfigError."""
    digest = file_digest(path, limits.max_size)  # before the parse: a change made meanwhile
    parsed = load_parsed_isolated(path, limits, in_process_fallback=in_process_fallback)
    return parsed, inputs_of(digest, parsed)


def file_digest(path: Path, max_size: int | None = None) -> bytes | None:
    """SHA-256 of a regular file's bytes (the first max_size + 1, as a parse reads them); None
    for anything else, which a parse must read itself: a FIFO or a device, whose read may
    block for as long as the writer likes, and a file that cannot be read."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO's open blocks, else
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        try:
            data = file.read(-1 if max_size is None else max_size + 1)
        except OSError:
            return None
    return hashlib.sha256(data).digest()


def inputs_of(config_digest: bytes | None, config: Config | Parsed) -> Inputs | None:
    """The inputs of `config`, parsed from a file whose digest, taken before the parse, was
    `config_digest`; None when one of them cannot be digested, or a secret file changed after
    the parse read it."""
    if config_digest is None:
        return None
    files: dict[Path, bytes] = {}
    named = config.files if isinstance(config, Parsed) else deployment_files(config)
    for path, value in named:
        digest = files.get(path) or file_digest(path)
        if digest is None or (value is not None and not _reads(path, value)):
            return None
        files[path] = digest
    return Inputs(config_digest, tuple(files.items()))


def _reads(path: Path, value: str) -> bool:
    try:
        return path.read_text().strip() == value
    except (OSError, UnicodeDecodeError):
        return False
