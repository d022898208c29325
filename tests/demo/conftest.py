"""The reference config, as the demo loads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.config import Config, load_config
from exporter.demo.backends import POSTGRES_PASSWORD_ENV, REDIS_PASSWORD_ENV

REFERENCE = Path(__file__).resolve().parents[2] / "examples" / "marketedge.yaml"


@pytest.fixture
def reference(monkeypatch: pytest.MonkeyPatch) -> Config:
    """examples/marketedge.yaml with the secrets it reads from the environment set."""
    for name in ("ZEBRA_DEMO_PASSWORD", POSTGRES_PASSWORD_ENV, REDIS_PASSWORD_ENV):
        monkeypatch.setenv(name, "not-a-secret")
    return load_config(REFERENCE)
