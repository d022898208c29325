"""`serve --shard I/N`: replicas split the targets between them without talking to each other.

Ownership is rendezvous (highest random weight) hashing: every replica weighs each target name
against every shard with the same hash and the heaviest shard owns it. When N grows by one, a
name moves only if the new shard outweighs its old owner, about 1/(N+1) of the names, and only
towards the new shard; when N shrinks, only the names of the removed shard move
(bench/resharding.py measures both against the stable hash mod N used before, which moved
most of them).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from exporter.config import Config

# A StatefulSet pod is named <statefulset>-<ordinal>, the ordinal counted from 0.
_ORDINAL = re.compile(r"-(\d+)$")


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

    @classmethod
    def from_hostname(cls, hostname: str, count: int) -> Shard:
        """Pod `exporter-2` of a StatefulSet of `count` replicas -> Shard(3, count)."""
        match = _ORDINAL.search(hostname)
        if match is None:
            raise ValueError(
                f"the host name {hostname!r} does not end in a StatefulSet pod ordinal (-0, -1...)"
            )
        ordinal = int(match.group(1))
        if count < 1 or ordinal >= count:
            raise ValueError(
                f"pod ordinal {ordinal} ({hostname}) is not below the shard count {count}: "
                "scale the StatefulSet and the shard count together"
            )
        return cls(ordinal + 1, count)

    def owns(self, name: str) -> bool:
        return owner(name, self.count) == self.index

    def select(self, config: Config) -> Config:
        """The config with only this replica's targets."""
        return config.model_copy(
            update={"targets": [t for t in config.targets if self.owns(t.name)]}
        )

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def owner(name: str, count: int) -> int:
    """The shard (1 to count) that owns `name`: the one of highest weight, the lowest on a tie."""
    return max(range(1, count + 1), key=lambda index: (_weight(name, index), -index))


def _weight(name: str, index: int) -> int:
    # sha256, not the scheduler's crc32 phase: a shard's targets keep evenly spread phases, and
    # every process and platform computes the same weights (no per-process hash seed).
    digest = hashlib.sha256(f"{index}\0{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")
