"""`serve --shard I/N`: replicas split the targets between them by a stable hash of the name."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from exporter.config import Config


@dataclass(frozen=True, slots=True)
class Shard:
    """Replica `index` (1-based) of `count`."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """'2/3' -> Shard(2, 3); ValueError with the reason otherwise."""
        index, sep, count = text.partition("/")
        if not (sep and index.isdigit() and count.isdigit()):
            raise ValueError(f"must be I/N such as 1/3, not {text!r}")
        shard = cls(int(index), int(count))
        if not 1 <= shard.index <= shard.count:
            raise ValueError(f"I must be from 1 to N, not {text!r}")
        return shard

    def owns(self, name: str) -> bool:
        # sha256, not the scheduler's crc32 phase: a shard's targets keep evenly spread phases.
        digest = hashlib.sha256(name.encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def select(self, config: Config) -> Config:
        """The config with only this replica's targets."""
        return config.model_copy(
            update={"targets": [t for t in config.targets if self.owns(t.name)]}
        )

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
