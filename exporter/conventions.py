"""Every metric, label and failure-reason name the exporter shares with the generators.

Rules, dashboards and tests import these names instead of spelling them again, so a
rename here is a rename everywhere.
"""

from __future__ import annotations

from typing import Final

METRIC_PREFIX: Final = "business_probe_"
SELF_PREFIX: Final = "business_exporter_"

# Probe series: one per target (and per step or result where noted).
PROBE_SUCCESS: Final = "business_probe_success"
PROBE_DURATION: Final = "business_probe_duration_seconds"
PROBE_RUNS: Final = "business_probe_runs"  # counter; exposed with the _total suffix
PROBE_CONSECUTIVE_FAILURES: Final = "business_probe_consecutive_failures"
PROBE_CONSECUTIVE_SUCCESSES: Final = "business_probe_consecutive_successes"
PROBE_FAILING: Final = "business_probe_failing"
PROBE_LAST_RUN: Final = "business_probe_last_run_timestamp_seconds"
PROBE_LAST_SUCCESS: Final = "business_probe_last_success_timestamp_seconds"
PROBE_REVENUE_AT_RISK: Final = "business_probe_revenue_at_risk"
PROBE_HTTP_STATUS_CODE: Final = "business_probe_http_status_code"
PROBE_STEP_SUCCESS: Final = "business_probe_step_success"
PROBE_STEP_DURATION: Final = "business_probe_step_duration_seconds"

# Exporter self-metrics.
BUILD_INFO: Final = "business_exporter_build_info"
CONFIG_RELOAD_SUCCESSFUL: Final = "business_exporter_config_last_reload_successful"
CONFIG_RELOAD_TIMESTAMP: Final = "business_exporter_config_last_reload_success_timestamp_seconds"
CONFIG_RELOADS: Final = "business_exporter_config_reloads"  # counter
TARGETS: Final = "business_exporter_targets"
PROBES_IN_FLIGHT: Final = "business_exporter_probes_in_flight"
MAX_CONCURRENT_PROBES: Final = "business_exporter_max_concurrent_probes"
SCHEDULER_LAG: Final = "business_exporter_scheduler_lag_seconds"
MISSED_RUNS: Final = "business_exporter_missed_runs"  # counter

# Static labels every probe series carries, in exposition order.
LABEL_PROBE: Final = "probe"
LABEL_KIND: Final = "kind"
LABEL_SEVERITY: Final = "severity"
LABEL_CONTEXT: Final = "context"
LABEL_TENANT: Final = "tenant"
LABEL_TIER: Final = "tier"
LABEL_SERVICE: Final = "service"
STATIC_LABELS: Final = (
    LABEL_PROBE,
    LABEL_KIND,
    LABEL_SEVERITY,
    LABEL_CONTEXT,
    LABEL_TENANT,
    LABEL_TIER,
    LABEL_SERVICE,
)

# Labels some families add to the static ones.
LABEL_RESULT: Final = "result"
LABEL_STEP: Final = "step"
LABEL_CURRENCY: Final = "currency"

# Names a config's extra `labels:` may not take: they would clash with ours or Prometheus'.
RESERVED_LABELS: Final = frozenset(
    (*STATIC_LABELS, LABEL_RESULT, LABEL_STEP, LABEL_CURRENCY, "le", "job", "instance")
)

# Severity ladder, most urgent first: the seeds' P0..P5.
SEVERITIES: Final = ("emergency", "critical", "high", "medium", "low", "info")

# The result vocabulary of business_probe_runs_total. Bounded on purpose: a label value is
# never free text. The human explanation of a failure goes to logs, /probe and the / page.
RESULT_SUCCESS: Final = "success"
REASON_TIMEOUT: Final = "timeout"
REASON_CONNECT_ERROR: Final = "connect_error"
REASON_DNS_ERROR: Final = "dns_error"
REASON_TLS_ERROR: Final = "tls_error"
REASON_UNEXPECTED_STATUS: Final = "unexpected_status"
REASON_BODY_MISMATCH: Final = "body_mismatch"
REASON_SLOW: Final = "slow"
REASON_RESPONSE_TOO_LARGE: Final = "response_too_large"
REASON_INVALID_RESPONSE: Final = "invalid_response"
REASON_ERROR: Final = "error"

FAILURE_REASONS: Final = {
    REASON_TIMEOUT: "the probe did not finish within its timeout",
    REASON_CONNECT_ERROR: "the connection was refused, reset or could not be opened",
    REASON_DNS_ERROR: "the host name did not resolve",
    REASON_TLS_ERROR: "the TLS handshake or certificate verification failed",
    REASON_UNEXPECTED_STATUS: "the response status is not one of the expected codes",
    REASON_BODY_MISMATCH: "the response body failed one of its assertions",
    REASON_SLOW: "the probe succeeded but took longer than its max_duration",
    REASON_RESPONSE_TOO_LARGE: "the response body exceeded max_response_bytes",
    REASON_INVALID_RESPONSE: "the peer answered with something that is not valid HTTP",
    REASON_ERROR: "any other failure, including a probe that raised",
}
RESULTS: Final = (RESULT_SUCCESS, *FAILURE_REASONS)

# Histogram buckets for probe durations: few on purpose, each one is a series per target.
DURATION_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
