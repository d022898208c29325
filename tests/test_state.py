from __future__ import annotations

import pytest

from exporter.config import parse_config
from exporter.conventions import (
    FAILURE_REASONS,
    OUTCOME_UNVERIFIED,
    OUTCOME_VIOLATION,
    REASON_OUTCOMES,
)
from exporter.plan import compile_plan
from exporter.probes import ProbeResult
from exporter.state import Histogram, TargetState

OK = ProbeResult.ok()
DOWN = ProbeResult.failed("unexpected_status", "status 404")


def state(failure_threshold: int, success_threshold: int) -> TargetState:
    config = parse_config(
        f"""
targets:
  - name: login
    severity: critical
    context: revenue_critical
    service: auth
    failure_threshold: {failure_threshold}
    success_threshold: {success_threshold}
    http: {{url: "http://127.0.0.1:1/"}}
"""
    )
    return TargetState(compile_plan(config.targets[0]))


def run(s: TargetState, *results: ProbeResult) -> list[bool]:
    failing = []
    for r in results:
        s.record(r, 0.01, 0.0)
        failing.append(s.failing)
    return failing


def test_failing_sets_after_failure_threshold_consecutive_failures() -> None:
    assert run(state(2, 3), DOWN, OK, DOWN, DOWN) == [False, False, False, True]


def test_failing_clears_only_after_success_threshold_consecutive_successes() -> None:
    s = state(2, 3)
    run(s, DOWN, DOWN)
    assert run(s, OK, OK, DOWN, OK, OK, OK) == [True, True, True, True, True, False]


def test_a_threshold_of_one_reacts_to_a_single_run() -> None:
    assert run(state(1, 1), DOWN, OK) == [True, False]


def test_record_reports_only_transitions() -> None:
    s = state(2, 1)
    transitions = [s.record(r, 0.01, 0.0) for r in (DOWN, DOWN, DOWN, OK, OK)]
    assert transitions == [False, True, False, True, False]


def test_runs_count_by_result_and_keep_timestamps() -> None:
    s = state(2, 2)
    s.record(DOWN, 0.2, 100.0)
    s.record(OK, 0.1, 110.0)
    s.record(DOWN, 0.3, 120.0)
    assert s.runs == {"success": 1, "unexpected_status": 2}
    assert (s.last_run, s.last_success, s.last_failure) == (120.0, 110.0, 120.0)
    assert (s.consecutive_failures, s.consecutive_successes) == (1, 0)


@pytest.mark.parametrize(
    ("value", "bucket"), [(0.05, 0), (0.051, 1), (1.0, 1), (7.0, 2), (1000.0, 3)]
)
def test_histogram_buckets_are_upper_inclusive(value: float, bucket: int) -> None:
    hist = Histogram((0.05, 1.0, 10.0))
    hist.observe(value)
    cumulative = [count for _, count in hist.cumulative()]
    assert cumulative == [int(i >= bucket) for i in range(3)] + [1]


TIMEOUT = ProbeResult.failed("timeout", "no answer in 5s")
RLS_OFF = ProbeResult.failed("rls_disabled", "RLS is off on users")


def test_a_run_that_could_not_check_is_not_verified() -> None:
    s = state(1, 2)
    assert s.verified is None  # before the first run
    verdicts: list[bool | None] = []
    for result in (OK, RLS_OFF, TIMEOUT):
        s.record(result, 0.01, 0.0)
        verdicts.append(s.verified)
    assert verdicts == [True, True, False]


def test_failing_on_timeouts_alone_is_no_violation() -> None:
    s = state(1, 2)
    run(s, TIMEOUT, TIMEOUT)
    assert (s.failing, s.violation) == (True, False)


def test_a_violation_holds_through_later_runs_that_could_not_check_until_recovery() -> None:
    s = state(2, 2)
    violations = []
    for result in (TIMEOUT, RLS_OFF, TIMEOUT, OK, TIMEOUT, OK, OK, TIMEOUT):
        s.record(result, 0.01, 0.0)
        violations.append(s.violation)
    # Failing from the second run on; the violation it found stays known until two successes
    # end the failure; the timeout after that starts afresh, with nothing known.
    assert violations == [False, True, True, True, True, True, False, False]


def test_a_violation_below_the_failure_threshold_is_forgotten_after_a_success() -> None:
    s = state(2, 1)
    run(s, RLS_OFF, OK, TIMEOUT, TIMEOUT)
    assert (s.failing, s.violation) == (True, False)


def test_every_failure_reason_is_a_violation_or_could_not_check() -> None:
    assert set(REASON_OUTCOMES) == set(FAILURE_REASONS)
    assert set(REASON_OUTCOMES.values()) == {OUTCOME_VIOLATION, OUTCOME_UNVERIFIED}
