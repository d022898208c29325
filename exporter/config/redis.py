"""The `redis:` probe block: a login, PING, and an optional write-read-delete round trip."""

from __future__ import annotations

from pydantic import Field, model_validator

from exporter.config.tls import ClientTLS
from exporter.config.types import Duration, ProbeSpec, SecretSource, StrictModel


class RoundTrip(StrictModel):
    """SET a random key under `key_prefix` with a TTL, GET it back, DEL it."""

    key_prefix: str = Field(default="business_exporter:probe:", min_length=1)
    ttl: Duration = 60.0


class RedisSpec(ProbeSpec):
    host: str = Field(min_length=1)
    port: int = Field(default=6379, ge=1, le=65535)
    db: int = Field(default=0, ge=0)
    username: str | None = None
    password: SecretSource | None = None
    tls: ClientTLS | None = None
    round_trip: RoundTrip | None = None

    def step_names(self) -> list[str]:
        """The `step` label of each phase a run goes through, in order."""
        return ["connect", "ping"] + (["round_trip"] if self.round_trip is not None else [])

    @model_validator(mode="after")
    def _username_needs_password(self) -> RedisSpec:
        if self.username is not None and self.password is None:
            raise ValueError("username goes with password")
        return self
