"""The config file's shape: defaults, targets and their business context."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from exporter.config.http import HTTPSpec
from exporter.config.types import Duration, Labels, Name, Severity, StrictModel


class RevenueAtRisk(StrictModel):
    amount: float = Field(ge=0)
    currency: str = "GBP"

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.match(r"^[A-Z]{3}$", value):
            raise ValueError(f"must be an ISO 4217 code such as GBP, not {value!r}")
        return value


# Fields a target takes from `defaults:` when it does not set them itself.
INHERITED = ("interval", "timeout", "failure_threshold", "success_threshold", "tenant", "tier")
KINDS = ("http",)


class Defaults(StrictModel):
    interval: Duration = 30.0
    timeout: Duration = 10.0
    failure_threshold: int = Field(default=2, ge=1)
    success_threshold: int = Field(default=2, ge=1)
    tenant: str = ""
    tier: str = ""
    labels: Labels = Field(default_factory=dict)


class Target(StrictModel):
    """One business-critical check: what to probe, how often, and what it means to the business."""

    name: Name
    description: str = ""
    runbook_url: str = ""
    severity: Severity
    context: Name
    service: str = Field(min_length=1)
    tenant: str = ""
    tier: str = ""
    labels: Labels = Field(default_factory=dict)
    revenue_at_risk: RevenueAtRisk | None = None
    interval: Duration = 30.0
    timeout: Duration = 10.0
    failure_threshold: int = Field(default=2, ge=1)
    success_threshold: int = Field(default=2, ge=1)
    http: HTTPSpec | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Target:
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"needs exactly one probe block, one of: {', '.join(KINDS)}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)

    @property
    def spec(self) -> Any:
        return getattr(self, self.kind)

    def static_labels(self) -> dict[str, str]:
        """The label set every series of this target carries, in exposition order."""
        return {
            "probe": self.name,
            "kind": self.kind,
            "severity": self.severity,
            "context": self.context,
            "tenant": self.tenant,
            "tier": self.tier,
            "service": self.service,
            **dict(sorted(self.labels.items())),
        }


class Config(StrictModel):
    defaults: Defaults = Field(default_factory=Defaults)
    targets: list[Target] = Field(default_factory=list)

    @model_validator(mode="after")
    def _inherit_defaults(self) -> Config:
        for target in self.targets:
            for field in INHERITED:
                if field not in target.model_fields_set:
                    setattr(target, field, getattr(self.defaults, field))
            target.labels = {**self.defaults.labels, **target.labels}
        return self

    def target(self, name: str) -> Target | None:
        return next((t for t in self.targets if t.name == name), None)
