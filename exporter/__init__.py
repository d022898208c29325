"""Prometheus exporter for the business-critical paths of a SaaS platform."""

__version__ = "0.1.0"
