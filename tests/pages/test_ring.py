"""The ring of recent runs each target keeps: bounded, ordered, and compact."""

from __future__ import annotations

import tracemalloc

from exporter.config import parse_config
from exporter.plan import compile_plan
from exporter.probes import ProbeResult
from exporter.state import HISTORY_RUNS, RunRing, TargetState

TARGET = """\
targets:
  - {name: shop, severity: high, context: revenue, service: shop, http: {url: "http://127.0.0.1:1/"}}
"""


def test_it_keeps_the_last_runs_oldest_first_to_a_tenth_of_a_second() -> None:
    ring = RunRing()
    assert list(ring.runs()) == []
    start = 1_800_000_000.0
    for i in range(HISTORY_RUNS + 5):
        ring.add(start + i * 0.5 + (0.04 if i == 6 else 0), "success" if i % 2 else "timeout")
    runs = list(ring.runs())
    assert len(runs) == HISTORY_RUNS  # the first five went
    assert runs[0] == (start + 5 * 0.5, "success")
    assert runs[1] == (start + 6 * 0.5, "timeout")  # 0.04 s late: kept to a tenth
    assert runs[-1] == (start + (HISTORY_RUNS + 4) * 0.5, "timeout")


def test_its_stretches_are_its_runs_in_a_row_with_one_result() -> None:
    ring = RunRing()
    assert list(ring.stretches()) == []
    results = ["success"] * 3 + ["timeout"] * 2 + ["success"]
    for i, result in enumerate(results):
        ring.add(1_800_000_000.0 + i, result)
    assert list(ring.stretches()) == [
        ("success", 3, 1_800_000_000.0, 1_800_000_002.0),
        ("timeout", 2, 1_800_000_003.0, 1_800_000_004.0),
        ("success", 1, 1_800_000_005.0, 1_800_000_005.0),
    ]
    for i in range(HISTORY_RUNS):  # full, and wrapped round
        ring.add(1_800_000_010.0 + i, "success" if i < HISTORY_RUNS - 1 else "slow")
    assert list(ring.stretches()) == [
        ("success", HISTORY_RUNS - 1, 1_800_000_010.0, 1_800_000_010.0 + HISTORY_RUNS - 2),
        ("slow", 1, 1_800_000_010.0 + HISTORY_RUNS - 1, 1_800_000_010.0 + HISTORY_RUNS - 1),
    ]


def test_an_unknown_result_is_kept_as_error() -> None:
    ring = RunRing()
    ring.add(1_800_000_000.0, "no_such_reason")
    assert list(ring.runs()) == [(1_800_000_000.0, "error")]


def test_a_thousand_full_rings_take_well_under_half_a_megabyte() -> None:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        rings = [RunRing() for _ in range(1000)]
        for ring in rings:
            for i in range(HISTORY_RUNS):
                ring.add(1_800_000_000.0 + i, "success")
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert used < 450_000, f"{used / 1000:.0f} bytes per target"


def test_a_target_state_records_each_run_and_keeps_its_last_failure() -> None:
    (target,) = parse_config(TARGET).targets
    state = TargetState(compile_plan(target))
    failure = ProbeResult.failed("unexpected_status", "status 500, expected 2xx")
    state.record(failure, 0.01, 1_800_000_000.0)
    state.record(ProbeResult.ok(), 0.01, 1_800_000_001.0)
    assert list(state.history.runs()) == [
        (1_800_000_000.0, "unexpected_status"),
        (1_800_000_001.0, "success"),
    ]
    assert state.last_failed_result is failure
