"""The exporter's web face: --web.config.file (TLS, basic auth, headers) and its limits."""

from __future__ import annotations

# Prometheus' own default for --web.max-connections.
DEFAULT_MAX_CONNECTIONS = 512
# /probe runs waiting for a slot or running at once (--max-pending-probes).
DEFAULT_MAX_PENDING_PROBES = 64
