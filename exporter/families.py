"""The probe metric families, defined once: what each family says about one target.

Both the prometheus_client collector (used by /probe and as the reference in tests) and the
fast /metrics renderer read this table, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from exporter import conventions as c
from exporter.state import Histogram, TargetState

# A sample of one target: (sample name, extra label name or "", its value, sample value).
# An info family's samples add several labels: a tuple of names and a tuple of values.
Sample = tuple[str, str | tuple[str, ...], str | tuple[str, ...], float]


def extra_labels(names: str | tuple[str, ...], values: str | tuple[str, ...]) -> dict[str, str]:
    """A sample's extra labels as a dict."""
    if isinstance(names, str):
        assert isinstance(values, str)
        return {names: values} if names else {}
    assert isinstance(values, tuple)
    return dict(zip(names, values, strict=True))


@dataclass(frozen=True, slots=True)
class Family:
    name: str  # a counter's family name has no _total; its samples do
    doc: str
    type: str
    samples: Callable[[TargetState], Iterator[Sample]]
    # For histograms: the target's Histogram, so a renderer can skip the generic samples.
    histogram: Callable[[TargetState], Histogram] | None = None


def histogram_samples(name: str, hist: Histogram) -> Iterator[Sample]:
    """Bucket, count and sum samples, as prometheus_client orders them."""
    for bound, count in hist.cumulative():
        yield name + "_bucket", "le", le_text(bound), count
    yield name + "_count", "", "", hist.count
    yield name + "_sum", "", "", hist.total


def le_text(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)


def _durations(s: TargetState) -> Histogram:
    return s.durations


def _success(s: TargetState) -> Iterator[Sample]:
    if s.last_result is not None:
        yield c.PROBE_SUCCESS, "", "", int(s.last_result.success)


def _duration(s: TargetState) -> Iterator[Sample]:
    return histogram_samples(c.PROBE_DURATION, s.durations)


def _runs(s: TargetState) -> Iterator[Sample]:
    for result, count in s.runs.items():
        yield c.PROBE_RUNS + "_total", c.LABEL_RESULT, result, count


def _consecutive_failures(s: TargetState) -> Iterator[Sample]:
    yield c.PROBE_CONSECUTIVE_FAILURES, "", "", s.consecutive_failures


def _consecutive_successes(s: TargetState) -> Iterator[Sample]:
    yield c.PROBE_CONSECUTIVE_SUCCESSES, "", "", s.consecutive_successes


def _failing(s: TargetState) -> Iterator[Sample]:
    yield c.PROBE_FAILING, "", "", int(s.failing)


def _verified(s: TargetState) -> Iterator[Sample]:
    verified = s.verified
    if verified is not None:
        yield c.PROBE_VERIFIED, "", "", int(verified)


def _violation(s: TargetState) -> Iterator[Sample]:
    yield c.PROBE_VIOLATION, "", "", int(s.violation)


def _last_run(s: TargetState) -> Iterator[Sample]:
    if s.last_run is not None:
        yield c.PROBE_LAST_RUN, "", "", s.last_run


def _last_success(s: TargetState) -> Iterator[Sample]:
    if s.last_success is not None:
        yield c.PROBE_LAST_SUCCESS, "", "", s.last_success


def _interval(s: TargetState) -> Iterator[Sample]:
    yield c.PROBE_INTERVAL, "", "", s.plan.interval


def _revenue(s: TargetState) -> Iterator[Sample]:
    money = s.about.revenue_at_risk
    if money is not None:
        yield c.PROBE_REVENUE_AT_RISK, c.LABEL_CURRENCY, money.currency, money.amount


def _status(s: TargetState) -> Iterator[Sample]:
    if s.last_result is not None and s.last_result.http_status_code is not None:
        yield c.PROBE_HTTP_STATUS_CODE, "", "", s.last_result.http_status_code


def _step_success(s: TargetState) -> Iterator[Sample]:
    for step in s.last_result.steps if s.last_result is not None else ():
        yield c.PROBE_STEP_SUCCESS, c.LABEL_STEP, step.name, int(step.success)


def _step_duration(s: TargetState) -> Iterator[Sample]:
    for step in s.last_result.steps if s.last_result is not None else ():
        yield c.PROBE_STEP_DURATION, c.LABEL_STEP, step.name, step.duration_seconds


def _http_info(s: TargetState) -> Iterator[Sample]:
    if s.seen is not None:
        labels = (c.LABEL_HTTP_VERSION, c.LABEL_TLS_VERSION)
        yield c.PROBE_HTTP_INFO, labels, (s.seen.http_version, s.seen.tls_version), 1


def _cert_expiry(s: TargetState) -> Iterator[Sample]:
    if s.seen is not None and s.seen.cert_expiry is not None:
        yield c.PROBE_TLS_EARLIEST_CERT_EXPIRY, "", "", s.seen.cert_expiry


PROBE_FAMILIES = (
    Family(c.PROBE_SUCCESS, "Whether the last run of the probe succeeded.", "gauge", _success),
    Family(c.PROBE_DURATION, "Duration of probe runs.", "histogram", _duration, _durations),
    Family(c.PROBE_RUNS, "Probe runs by result: success or a failure reason.", "counter", _runs),
    Family(
        c.PROBE_CONSECUTIVE_FAILURES,
        "Failed runs since the last successful one.",
        "gauge",
        _consecutive_failures,
    ),
    Family(
        c.PROBE_CONSECUTIVE_SUCCESSES,
        "Successful runs since the last failed one.",
        "gauge",
        _consecutive_successes,
    ),
    Family(
        c.PROBE_FAILING,
        "1 after failure_threshold consecutive failures, 0 again after success_threshold "
        "consecutive successes.",
        "gauge",
        _failing,
    ),
    Family(
        c.PROBE_VERIFIED,
        "1 when the last run's check ran (it passed or found a violation), 0 when it could not "
        "run (timeout, connection, DNS, TLS, credentials...).",
        "gauge",
        _verified,
    ),
    Family(
        c.PROBE_VIOLATION,
        "1 while failing and a run of this failure found a violation (the check ran and found "
        "the problem), 0 otherwise: failing without a violation means could not check.",
        "gauge",
        _violation,
    ),
    Family(c.PROBE_LAST_RUN, "When the probe last finished a run.", "gauge", _last_run),
    Family(c.PROBE_LAST_SUCCESS, "When the probe last succeeded.", "gauge", _last_success),
    Family(
        c.PROBE_INTERVAL,
        "Configured seconds between runs: the generated staleness alert compares against it.",
        "gauge",
        _interval,
    ),
    Family(
        c.PROBE_REVENUE_AT_RISK,
        "Configured revenue at stake when this probe fails.",
        "gauge",
        _revenue,
    ),
    Family(c.PROBE_HTTP_STATUS_CODE, "HTTP status of the last response.", "gauge", _status),
    Family(
        c.PROBE_STEP_SUCCESS, "Whether a step of the last run succeeded.", "gauge", _step_success
    ),
    Family(c.PROBE_STEP_DURATION, "Duration of a step of the last run.", "gauge", _step_duration),
    Family(
        c.PROBE_HTTP_INFO,
        "The HTTP and TLS versions of the last response, always 1.",
        "gauge",
        _http_info,
    ),
    Family(
        c.PROBE_TLS_EARLIEST_CERT_EXPIRY,
        "When the first of the certificates the server presented expires, as of the last response.",
        "gauge",
        _cert_expiry,
    ),
)
