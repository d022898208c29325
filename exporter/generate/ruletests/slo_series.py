"""Input series and expected samples shared by the generated SLO and revenue tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from exporter import conventions as c
from exporter.config import Config, Target, parse_duration
from exporter.generate.model import ExpectedSample, Series
from exporter.generate.rules import messages as m
from exporter.generate.rules.objectives import le_bound, le_label
from exporter.generate.rules.slo import LEVELS, Level
from exporter.generate.ruletests.series import series

RUNS_TOTAL = f"{c.PROBE_RUNS}_total"
BUCKET = f"{c.PROBE_DURATION}_bucket"
COUNT = f"{c.PROBE_DURATION}_count"
FAILURE = c.REASON_UNEXPECTED_STATUS  # any failure reason would do


def sample_targets(config: Config) -> list[Target]:
    """The first tenant target of each tier, or the first two targets when there are no tiers."""
    picked = [
        next(t for t in config.targets if t.tier == tier and t.tenant)
        for tier in config.tiers
        if any(t.tier == tier and t.tenant for t in config.targets)
    ]
    if not picked:
        picked = config.targets[:2]
    return picked


def seconds(duration: str) -> int:
    return int(parse_duration(duration))


def steps(duration: str, step: str) -> int:
    return seconds(duration) // seconds(step)


def prom_rate(increase: float, window: str) -> float:
    """rate() as Prometheus 2.42 computes it when samples sit on the window's edges: the
    increase times 1/window, not divided by it (4200 over 5m is 14.000000000000002)."""
    return increase * (1 / seconds(window))


def counter(increments: Sequence[float]) -> list[float]:
    """Cumulative values from 0, one increment per step after the first."""
    values, total = [0.0], 0.0
    for inc in increments:
        total += inc
        values.append(total)
    return values


def level_labels(level: Level, target_labels: Mapping[str, str]) -> dict[str, str]:
    """The labels of a target's series once aggregated at a level."""
    if not level.by:
        return dict(target_labels)
    return {k: target_labels[k] for k in level.by if target_labels.get(k)}


def in_level(level: Level, target_labels: Mapping[str, str]) -> bool:
    """Whether the level's selector keeps the target: tenant and tier need a value."""
    return all(target_labels.get(k) for k in level.by if k != c.LABEL_SERVICE)


def selector(metric: str, labels: Mapping[str, str]) -> str:
    return m.selector(metric, *(m.matcher(k, v) for k, v in sorted(labels.items())))


def sample(metric: str, labels: Mapping[str, str], value: float) -> ExpectedSample:
    return ExpectedSample(selector(metric, labels), value)


def level_ratios(
    targets: Sequence[Mapping[str, str]], good: Sequence[float], total: Sequence[float]
) -> dict[str, dict[str, tuple[dict[str, str], float]]]:
    """Per level name, per series key: its labels and good/total summed over its targets."""
    out: dict[str, dict[str, tuple[dict[str, str], float]]] = {}
    for level in LEVELS:
        sums: dict[str, tuple[dict[str, str], float, float]] = {}
        for labels, g, t in zip(targets, good, total, strict=True):
            if not in_level(level, labels):
                continue
            key_labels = level_labels(level, labels)
            key = selector("", key_labels)
            _, g0, t0 = sums.get(key, (key_labels, 0.0, 0.0))
            sums[key] = (key_labels, g0 + g, t0 + t)
        out[level.name] = {k: (lab, g / t) for k, (lab, g, t) in sums.items()}
    return out


def probe_series(
    labels: Mapping[str, str],
    runs: Sequence[float],
    failures: Sequence[float],
    latency: tuple[str, Sequence[float]] | None = None,
) -> list[Series]:
    """A target's runs counter by result, the duration histogram's count and, given (le, slow
    runs), its bucket at that bound: per-step increments in, cumulative series out."""
    success = [r - f for r, f in zip(runs, failures, strict=True)]
    out = [
        series(RUNS_TOTAL, {**labels, c.LABEL_RESULT: c.RESULT_SUCCESS}, counter(success)),
        series(RUNS_TOTAL, {**labels, c.LABEL_RESULT: FAILURE}, counter(failures)),
        series(COUNT, labels, counter(runs)),
    ]
    if latency is not None:
        le, slow = latency
        within = [r - s for r, s in zip(runs, slow, strict=True)]
        out.append(series(BUCKET, {**labels, "le": le}, counter(within)))
    return out


def tier_le(config: Config, target_labels: Mapping[str, str]) -> str | None:
    """The `le` a target's latency SLI reads, None when its tier is not defined."""
    tier = config.tiers.get(target_labels.get(c.LABEL_TIER, ""))
    return None if tier is None else le_label(le_bound(tier.latency))
