"""promtool unit tests of the rules, generated from the same config."""
