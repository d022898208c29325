from __future__ import annotations

import gc

from exporter.probes._cache import PerSpec


class Spec:
    def __init__(self, url: str) -> None:
        self.url = url


def test_a_plan_is_made_once_per_spec_and_forgotten_with_it() -> None:
    made: list[str] = []

    def make(spec: Spec) -> str:
        made.append(spec.url)
        return spec.url.upper()

    plans = PerSpec(make)
    first = Spec("a")
    assert plans(first) == plans(first) == "A"
    assert made == ["a"]
    del first
    gc.collect()
    assert plans._entries == {}
    # Whatever id a new spec gets, it gets its own plan.
    assert [plans(Spec(url)) for url in ("b", "c")] == ["B", "C"]
    assert made == ["a", "b", "c"]
