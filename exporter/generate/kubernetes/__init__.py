"""`generate --kubernetes`: the bundle as prometheus-operator objects and the exporter as a
sharded StatefulSet (kit.py assembles them; one module per part)."""
