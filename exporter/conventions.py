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
PROBE_INTERVAL: Final = "business_probe_interval_seconds"
PROBE_VERIFIED: Final = "business_probe_verified"
PROBE_VIOLATION: Final = "business_probe_violation"
PROBE_HTTP_INFO: Final = "business_probe_http_info"  # always 1; the versions are labels
PROBE_TLS_EARLIEST_CERT_EXPIRY: Final = "business_probe_tls_earliest_cert_expiry_timestamp_seconds"

# Maintenance windows (exporter/config/maintenance.py): 1 while a window holds, per tenant and
# service of the targets it covers; the SLI rules leave those series' runs out while it is 1.
MAINTENANCE_ACTIVE: Final = "business_maintenance_window_active"
LABEL_WINDOW: Final = "window"

# The pages (exporter/pages/): the on-call page and its JSON twin, and the status page of each
# tenant whose config says `status_page: true`, with its own. Documented in README.md (Pages).
PAGE_ONCALL: Final = "/"
PAGE_ONCALL_JSON: Final = "/api/v1/status"
PAGE_STATUS: Final = "/status/{tenant}"
PAGE_STATUS_JSON: Final = "/api/v1/status/{tenant}"

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
PROBE_REQUESTS_IN_FLIGHT: Final = "business_exporter_probe_requests_in_flight"
PROBE_RUNS_PENDING: Final = "business_exporter_probe_runs_pending"
MAX_PENDING_PROBE_RUNS: Final = "business_exporter_max_pending_probe_runs"
PROBE_REQUESTS_REJECTED: Final = "business_exporter_probe_requests_rejected"  # counter

# The in-app integration's series (exporter/integration/), on the application's own /metrics.
APP_READY: Final = "business_app_ready"
APP_STARTUP_CHECK: Final = "business_app_startup_check_success"
APP_ROUTE_REGISTERED: Final = "business_app_route_registered"
APP_DEPENDENCY_UP: Final = "business_app_dependency_up"
APP_DEPENDENCY_DURATION: Final = "business_app_dependency_check_duration_seconds"
APP_DEPENDENCY_CHECKS: Final = "business_app_dependency_checks"  # counter
LABEL_CHECK: Final = "check"  # a check's name: a route ("GET /api/v1/users") or a dependency
LABEL_ROUTE: Final = "route"
LABEL_POLICY: Final = "policy"  # fail_fast or degrade
LABEL_CRITICAL: Final = "critical"  # "true" when a failure makes the app not ready

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
LABEL_HTTP_VERSION: Final = "http_version"  # HTTP/1.1, HTTP/1.0
LABEL_TLS_VERSION: Final = "tls_version"  # TLS 1.0 .. TLS 1.3, "other"; empty without TLS

# Labels the generated alerting rules add to a probe's own.
LABEL_PRIORITY: Final = "priority"
LABEL_ESCALATION_LEVEL: Final = "escalation_level"
LABEL_ESCALATE_TO: Final = "escalate_to"
# On BusinessCannotVerify: the alert whose check could not run (TenantIsolationBreach).
LABEL_UNVERIFIED: Final = "unverified"
ALERT_LABELS: Final = (LABEL_PRIORITY, LABEL_ESCALATION_LEVEL, LABEL_ESCALATE_TO, LABEL_UNVERIFIED)

# Names a config's extra `labels:` may not take: they would clash with ours or Prometheus'.
RESERVED_LABELS: Final = frozenset(
    (
        *STATIC_LABELS,
        *ALERT_LABELS,
        LABEL_RESULT,
        LABEL_STEP,
        LABEL_CURRENCY,
        LABEL_HTTP_VERSION,
        LABEL_TLS_VERSION,
        "le",
        "job",
        "instance",
        "alertname",
    )
)

# Severity ladder, most urgent first: the seeds' P0..P5.
SEVERITIES: Final = ("emergency", "critical", "high", "medium", "low", "info")
PRIORITIES: Final = {severity: f"P{i}" for i, severity in enumerate(SEVERITIES)}

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
REASON_ROUTE_MISSING: Final = "route_missing"
REASON_OPENAPI_UNAVAILABLE: Final = "openapi_unavailable"
REASON_CAPTURE_FAILED: Final = "capture_failed"
REASON_AUTH_ERROR: Final = "auth_error"
REASON_QUERY_ERROR: Final = "query_error"
REASON_UNEXPECTED_RESULT: Final = "unexpected_result"
REASON_RLS_DISABLED: Final = "rls_disabled"
REASON_ISOLATION_BREACH: Final = "isolation_breach"
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
    REASON_ROUTE_MISSING: "a configured route is not in the app's OpenAPI document",
    REASON_OPENAPI_UNAVAILABLE: "the OpenAPI document is not 2xx, not JSON or has no paths",
    REASON_CAPTURE_FAILED: "a step of a flow found nothing to capture for a later step",
    REASON_AUTH_ERROR: "the server refused the credentials, or the role to act as",
    REASON_QUERY_ERROR: "the server answered a query or command with an error",
    REASON_UNEXPECTED_RESULT: "a query or a write-read round trip returned the wrong value",
    REASON_RLS_DISABLED: "row-level security is off, or not forced, on a checked table",
    REASON_ISOLATION_BREACH: "acting as one tenant, rows of another tenant were visible",
    REASON_ERROR: "any other failure, including a probe that raised",
}
RESULTS: Final = (RESULT_SUCCESS, *FAILURE_REASONS)

# What a failed run says about the thing it checks. A violation: the check ran and found the
# problem (a wrong status, a missing route, RLS off). Unverified: the check could not run (no
# connection, no answer in time, credentials refused), so it says nothing either way. Fixed per
# reason, so business_probe_verified and business_probe_violation mean the same for every kind.
OUTCOME_VIOLATION: Final = "violation"
OUTCOME_UNVERIFIED: Final = "unverified"
REASON_OUTCOMES: Final = {
    REASON_TIMEOUT: OUTCOME_UNVERIFIED,
    REASON_CONNECT_ERROR: OUTCOME_UNVERIFIED,
    REASON_DNS_ERROR: OUTCOME_UNVERIFIED,
    REASON_TLS_ERROR: OUTCOME_UNVERIFIED,
    REASON_UNEXPECTED_STATUS: OUTCOME_VIOLATION,
    REASON_BODY_MISMATCH: OUTCOME_VIOLATION,
    REASON_SLOW: OUTCOME_VIOLATION,
    REASON_RESPONSE_TOO_LARGE: OUTCOME_UNVERIFIED,
    REASON_INVALID_RESPONSE: OUTCOME_UNVERIFIED,
    REASON_ROUTE_MISSING: OUTCOME_VIOLATION,
    REASON_OPENAPI_UNAVAILABLE: OUTCOME_UNVERIFIED,
    REASON_CAPTURE_FAILED: OUTCOME_VIOLATION,
    REASON_AUTH_ERROR: OUTCOME_UNVERIFIED,
    REASON_QUERY_ERROR: OUTCOME_UNVERIFIED,
    REASON_UNEXPECTED_RESULT: OUTCOME_VIOLATION,
    REASON_RLS_DISABLED: OUTCOME_VIOLATION,
    REASON_ISOLATION_BREACH: OUTCOME_VIOLATION,
    REASON_ERROR: OUTCOME_UNVERIFIED,
}


VIOLATION_REASONS: Final = tuple(r for r, o in REASON_OUTCOMES.items() if o == OUTCOME_VIOLATION)
UNVERIFIED_REASONS: Final = tuple(r for r, o in REASON_OUTCOMES.items() if o == OUTCOME_UNVERIFIED)


def is_violation(reason: str) -> bool:
    """True when a failed run with this reason ran its check and found the problem."""
    return REASON_OUTCOMES.get(reason) == OUTCOME_VIOLATION


# Histogram buckets for probe durations: few on purpose, each one is a series per target.
# 0.5, 0.75 and 1.0 are the tier latencies of seed 004: a latency SLO is exact at a bound only.
DURATION_BUCKETS: Final = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)

# The SLO rules (exporter/generate/rules/slo.py, revenue.py). Recording names are
# level:metric:operation, the level being the labels a series is aggregated by.
GROUP_REVENUE_AT_RISK: Final = "business_revenue_at_risk"
GROUP_SLO_OBJECTIVES: Final = "business_slo_objectives"
GROUP_SLO_SLI: Final = "business_slo_sli_5m"
GROUP_SLO_WINDOWS: Final = "business_slo_sli_windows"
GROUP_SLO_DAYS: Final = "business_slo_sli_days"
GROUP_SLO_BUDGET: Final = "business_slo_error_budget"
GROUP_SLO_ALERTS: Final = "business_slo_burn_rate_alerts"
GROUP_SLO_PREDICTIONS: Final = "business_slo_predictions"

# Live revenue at risk: per target, per opportunity (tenant and context: counted once however
# many of its targets fail), then summed by context, by tenant and in total, per currency.
REVENUE_AT_RISK_PROBE: Final = "probe:business_probe_revenue_at_risk:failing"
REVENUE_AT_RISK_OPPORTUNITY: Final = "tenant_context:business_probe_revenue_at_risk:max"
REVENUE_AT_RISK_CONTEXT: Final = "context:business_probe_revenue_at_risk:sum"
REVENUE_AT_RISK_TENANT: Final = "tenant:business_probe_revenue_at_risk:sum"
REVENUE_AT_RISK_TOTAL: Final = "currency:business_probe_revenue_at_risk:sum"

# Levels and windows; the templates take .format(level=..., window=..., slo=...).
SLO_LEVELS: Final = ("probe", "service", "tenant", "tier")
SLO_WINDOWS: Final = ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")
SLO_PERIOD: Final = "30d"
# Rates are recorded over 5m (from the counters) and 1h (the average of the 5m ones).
RUNS_RATE: Final = "{level}:business_probe_runs:rate{window}"
SUCCESS_RATE: Final = "{level}:business_probe_runs_success:rate{window}"
AVAILABILITY: Final = "{level}:business_probe_availability:ratio_rate{window}"
DURATION_P95: Final = "{level}:business_probe_duration_seconds:p95_rate5m"
DURATION_COUNT_RATE: Final = "tenant:business_probe_duration_seconds_count:rate{window}"
WITHIN_LATENCY_RATE: Final = "tenant:business_probe_runs_within_latency:rate{window}"
WITHIN_LATENCY: Final = "tenant:business_probe_within_latency:ratio_rate{window}"
OBJECTIVE_AVAILABILITY: Final = "tier:business_slo_availability_objective:ratio"
OBJECTIVE_LATENCY: Final = "tier:business_slo_latency_objective:ratio"
OBJECTIVE_LATENCY_SECONDS: Final = "tier:business_slo_latency_objective:seconds"
OBJECTIVE_ERROR_RATE: Final = "tier:business_slo_error_rate_objective:ratio"
BUDGET_REMAINING: Final = "tenant:business_slo_{slo}_budget_remaining:ratio" + SLO_PERIOD
# The duration each tenant's tier bounds (its p95 for a latency_objective of 95), whose trend
# the latency prediction follows.
DURATION_OBJECTIVE_QUANTILE: Final = (
    "tenant:business_probe_duration_seconds:objective_quantile_rate5m"
)

# Burn-rate alerts: one per SLO and urgency, carrying `slo` and the SLO context.
LABEL_SLO: Final = "slo"
SLO_AVAILABILITY: Final = "availability"
SLO_LATENCY: Final = "latency"
SLO_CONTEXT: Final = "slo"
ALERT_AVAILABILITY_BURN_PAGE: Final = "BusinessTenantAvailabilityBurnRatePage"
ALERT_AVAILABILITY_BURN_TICKET: Final = "BusinessTenantAvailabilityBurnRateTicket"
ALERT_LATENCY_BURN_PAGE: Final = "BusinessTenantLatencyBurnRatePage"
ALERT_LATENCY_BURN_TICKET: Final = "BusinessTenantLatencyBurnRateTicket"
# Predictions (exporter/generate/rules/predict.py): a budget spent before the month ends at the
# current burn, and a latency trend crossing the tier's bound within its horizon.
ALERT_AVAILABILITY_BUDGET_EXHAUSTION: Final = "BusinessTenantAvailabilityBudgetExhaustion"
ALERT_LATENCY_BUDGET_EXHAUSTION: Final = "BusinessTenantLatencyBudgetExhaustion"
ALERT_LATENCY_TREND: Final = "BusinessTenantLatencyTrend"
SLO_ALERT_NAMES: Final = (
    ALERT_AVAILABILITY_BURN_PAGE,
    ALERT_AVAILABILITY_BURN_TICKET,
    ALERT_LATENCY_BURN_PAGE,
    ALERT_LATENCY_BURN_TICKET,
    ALERT_AVAILABILITY_BUDGET_EXHAUSTION,
    ALERT_LATENCY_BUDGET_EXHAUSTION,
    ALERT_LATENCY_TREND,
)

# The generated Prometheus side: the scrape job, rule groups, alert names and annotations.
EXPORTER_JOB: Final = "business_exporter"
GROUP_ALERT_PREFIX: Final = "business_alert_"  # + the alert definition's name
GROUP_SERVICE_OUTAGE: Final = "business_service_outage"
GROUP_SELF_MONITORING: Final = "business_exporter_self"
ALERT_SERVICE_OUTAGE: Final = "BusinessServiceOutage"
ALERT_EXPORTER_DOWN: Final = "BusinessExporterDown"
ALERT_EXPORTER_ABSENT: Final = "BusinessExporterAbsent"
ALERT_PROBE_STALE: Final = "BusinessProbeStale"
ALERT_CONFIG_RELOAD_FAILED: Final = "BusinessExporterConfigReloadFailed"
ALERT_WATCHDOG: Final = "Watchdog"
# A definition that fires on violations only raises this instead when its check cannot run.
ALERT_CANNOT_VERIFY: Final = "BusinessCannotVerify"
GROUP_CERTIFICATE_EXPIRY: Final = "business_certificate_expiry"
ALERT_CERTIFICATE_EXPIRY: Final = "BusinessCertificateExpiringSoon"
GROUP_APP: Final = "business_app"
ALERT_APP_ROUTE_MISSING: Final = "BusinessAppRouteMissing"
ALERT_APP_STARTUP_FAILED: Final = "BusinessAppStartupCheckFailed"
ALERT_APP_DEPENDENCY_DOWN: Final = "BusinessAppDependencyDown"
APP_ALERT_NAMES: Final = (
    ALERT_APP_ROUTE_MISSING,
    ALERT_APP_STARTUP_FAILED,
    ALERT_APP_DEPENDENCY_DOWN,
)
RESERVED_ALERT_NAMES: Final = frozenset(
    (
        ALERT_SERVICE_OUTAGE,
        ALERT_CERTIFICATE_EXPIRY,
        ALERT_EXPORTER_DOWN,
        ALERT_EXPORTER_ABSENT,
        ALERT_PROBE_STALE,
        ALERT_CONFIG_RELOAD_FAILED,
        ALERT_WATCHDOG,
        ALERT_CANNOT_VERIFY,
        *SLO_ALERT_NAMES,
        *APP_ALERT_NAMES,
    )
)
# The business context of the exporter's own alerts (the seeds' "internal systems, monitoring").
SELF_CONTEXT: Final = "operational"


def alert_name(definition: str) -> str:
    """The alertname of a config alert definition: zebra_admin_failure -> ZebraAdminFailure."""
    return "".join(part[:1].upper() + part[1:] for part in definition.split("_"))


ANNOTATION_SUMMARY: Final = "summary"
ANNOTATION_DESCRIPTION: Final = "description"
ANNOTATION_STAKEHOLDER: Final = "stakeholder_message"
ANNOTATION_TECHNICAL: Final = "technical_message"
ANNOTATION_BUSINESS_IMPACT: Final = "business_impact"
ANNOTATION_REVENUE_AT_RISK: Final = "revenue_at_risk"
ANNOTATION_RECOVERY_SLA: Final = "recovery_sla"
ANNOTATION_RUNBOOK_URL: Final = "runbook_url"

# Placeholders an alert definition's texts may use, each filled in when the alert fires.
# `error_details` and `recovery_eta` are the seeds' names for `reason` and `recovery_sla`.
MESSAGE_PLACEHOLDERS: Final = {
    "probe": "the target's name",
    "service": "the target's service",
    "tenant": "the target's tenant",
    "tier": "the target's tier",
    "reason": "the most frequent failure reason of the current failure, e.g. unexpected_status",
    "error_details": "the same as {reason}",
    "revenue_at_risk": "the target's revenue at risk, e.g. 925k GBP",
    "recovery_sla": "the alert's recovery SLA, e.g. 15 minutes",
    "recovery_eta": "the same as {recovery_sla}",
}

# The generated Alertmanager side (exporter/generate/alertmanager/files.py). Alerts are grouped by
# definition, context and tenant: a failing dependency is one notification, not a storm.
ALERTMANAGER_GROUP_BY: Final = ("alertname", LABEL_CONTEXT, LABEL_TENANT)
# Where the Watchdog goes when the config names no dead man's switch: a receiver without
# integrations, so the always-firing alert notifies nobody. A config receiver may not take it.
RECEIVER_BLACKHOLE: Final = "blackhole"
# The root receiver of a config without `routing:` (it has no integrations either).
RECEIVER_DEFAULT: Final = "default"
# A route that combines several config receivers delivers to one Alertmanager receiver, named
# by joining theirs in sorted order: ("slack_emergency", "pagerduty_critical") ->
# "pagerduty_critical+slack_emergency".
RECEIVER_JOIN: Final = "+"
