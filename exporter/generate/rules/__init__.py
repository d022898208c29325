"""Prometheus rules: alerting and recording rules built from a config."""
