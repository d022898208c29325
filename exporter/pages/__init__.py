"""The pages people read: the on-call page at `/`, per-tenant status pages, and their JSON.

They render from the state table and the ring of recent runs each target keeps
(exporter/state.py), the config's maintenance windows, and, with `serve --alertmanager-url`,
Alertmanager's alerts: no Prometheus needed.
"""
