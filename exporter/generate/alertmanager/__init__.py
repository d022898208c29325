"""Alertmanager: the routing tree, receivers, inhibitions, templates and their amtool cases."""
