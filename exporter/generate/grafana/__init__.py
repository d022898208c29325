"""Grafana: the three dashboards and their provisioning."""
