"""How many targets change replica when the shard count changes: hash mod N against rendezvous.

For 10,000 target names, and each change of the replica count (N -> M), counts the names
whose owner differs before and after, under the stable hash mod N that `serve --shard I/N`
used before and under the rendezvous hashing it uses now (exporter/sharding.py). A moved
target is probed by its new replica from its next slot on, and its series move to another
`instance`. The least any scheme can move is |M - N| / max(N, M) of the names; `spread` is the
largest shard over the mean one after the change, under rendezvous hashing.
Run: .venv/bin/python bench/resharding.py
"""

from __future__ import annotations

import collections
import hashlib
from collections.abc import Callable

from exporter.sharding import owner

NAMES = tuple(
    f"tenant_{i // 10}_{('login', 'admin', 'api', 'db', 'cache')[i % 5]}_{i}" for i in range(10_000)
)
CHANGES = ((1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (8, 9), (10, 11), (4, 3), (3, 2))


def modulo_owner(name: str, count: int) -> int:
    """The previous scheme: the first 8 bytes of sha256(name) mod N, 1-based."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def moved(scheme: Callable[[str, int], int], before: int, after: int) -> int:
    return sum(scheme(name, before) != scheme(name, after) for name in NAMES)


def spread(count: int) -> float:
    sizes = collections.Counter(owner(name, count) for name in NAMES)
    return max(sizes.values()) / (len(NAMES) / count)


def main() -> None:
    head = ("change", "least", "hash mod N", "rendezvous", "spread")
    print(f"{head[0]:>8} {head[1]:>8} {head[2]:>16} {head[3]:>16} {head[4]:>7}")
    for before, after in CHANGES:
        least = abs(after - before) / max(before, after)
        old, new = moved(modulo_owner, before, after), moved(owner, before, after)
        cells = (
            f"{before} -> {after}",
            f"{least:.1%}",
            f"{old:,} ({old / len(NAMES):.1%})",
            f"{new:,} ({new / len(NAMES):.1%})",
            f"{spread(after):.3f}",
        )
        print(f"{cells[0]:>8} {cells[1]:>8} {cells[2]:>16} {cells[3]:>16} {cells[4]:>7}")
    print(f"{len(NAMES):,} target names")


if __name__ == "__main__":
    main()
