"""Generators: pure builders from a Config to rules, routing, dashboards and their tests."""
