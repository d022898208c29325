"""Input series of promtool tests: label sets as the exporter exposes them, values compressed."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from exporter import conventions as c
from exporter.config import Target
from exporter.generate.model import Series
from exporter.generate.rules import messages as m

# The instance label of the exporter in generated tests: any value would do.
TEST_INSTANCE = "127.0.0.1:9117"


def scraped_labels(target: Target) -> dict[str, str]:
    """A target's labels once Prometheus scraped them: empty values dropped, job and instance."""
    labels = {k: v for k, v in target.static_labels().items() if v}
    return {**labels, "job": c.EXPORTER_JOB, "instance": TEST_INSTANCE}


def exporter_labels() -> dict[str, str]:
    return {"job": c.EXPORTER_JOB, "instance": TEST_INSTANCE}


def series(metric: str, labels: Mapping[str, str], values: Sequence[float | None]) -> Series:
    """One input series; None is a missing sample."""
    matchers = (m.matcher(k, v) for k, v in labels.items())
    return Series(m.selector(metric, *matchers), compress(values))


def compress(values: Sequence[float | None]) -> str:
    """promtool's expanding notation: runs of equal steps become `a+bxn`, constants `axn`."""
    tokens: list[str] = []
    run: list[float] = []
    for value in values:
        if value is None:
            tokens += _runs(run)
            tokens.append("_")
            run = []
        else:
            run.append(value)
    return " ".join(tokens + _runs(run))


def _runs(values: list[float]) -> list[str]:
    tokens, i = [], 0
    while i < len(values):
        end, step = i, 0.0
        if i + 1 < len(values):
            end, step = i + 1, values[i + 1] - values[i]
            while end + 1 < len(values) and values[end + 1] - values[end] == step:
                end += 1
        tokens.append(_token(values[i], step, end - i))
        i = end + 1
    return tokens


def _token(start: float, step: float, repeats: int) -> str:
    if repeats == 0:
        return _number(start)
    if step == 0:
        return f"{_number(start)}x{repeats}"
    sign = "+" if step > 0 else "-"
    return f"{_number(start)}{sign}{_number(abs(step))}x{repeats}"


def _number(value: float) -> str:
    if math.isfinite(value) and value == int(value):
        return str(int(value))
    return repr(value)
