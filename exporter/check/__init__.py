"""`check`: the real promtool and amtool over a generated bundle."""
