"""The SLA report: per tenant, availability, error budget, latency and incidents over a period,
read from Prometheus' raw series.

Usage: `business-exporter report --config FILE --prometheus URL --from 2026-11-01
--to 2026-12-01 [--tenant NAME] [--format json|html|markdown] [--out FILE]`.
"""
