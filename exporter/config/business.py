"""Business context: contexts, alert definitions (seed 003), SLA tiers (seed 004), tenants."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from exporter.config.types import Duration, Name, Severity, StrictModel
from exporter.conventions import MESSAGE_PLACEHOLDERS

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class RevenueAtRisk(StrictModel):
    amount: float = Field(ge=0)
    currency: str = "GBP"

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.match(r"^[A-Z]{3}$", value):
            raise ValueError(f"must be an ISO 4217 code such as GBP, not {value!r}")
        return value


class Context(StrictModel):
    """What a failure means to the business: revenue_critical, zebra_opportunity, security..."""

    display_name: str = ""
    revenue_at_risk: RevenueAtRisk | None = None


class Alert(StrictModel):
    """How a failure is announced and escalated: one row of the seeds' alert matrix."""

    severity: Severity
    context: Name
    summary: str = ""
    business_impact: str = Field(min_length=1)
    recovery_sla: Duration
    escalation_time: Duration | None = None
    escalation_chain: list[Name] = Field(default_factory=list)
    stakeholder_message: str = ""
    technical_message: str = ""
    runbook_url: str = ""

    @field_validator(
        "summary", "business_impact", "stakeholder_message", "technical_message", "runbook_url"
    )
    @classmethod
    def _placeholders(cls, value: str) -> str:
        allowed = ", ".join(f"{{{name}}}" for name in MESSAGE_PLACEHOLDERS)
        for name in _PLACEHOLDER.findall(value):
            if name not in MESSAGE_PLACEHOLDERS:
                raise ValueError(f"unknown placeholder {{{name}}}; allowed: {allowed}")
        if re.search(r"[{}]", _PLACEHOLDER.sub("", value)):
            raise ValueError(f"braces may only enclose a placeholder; allowed: {allowed}")
        return value

    @model_validator(mode="after")
    def _escalation(self) -> Alert:
        if len(self.escalation_chain) > 1 and self.escalation_time is None:
            raise ValueError("an escalation_chain of more than one entry needs escalation_time")
        return self


class Tier(StrictModel):
    """SLA targets of a service tier, in percent and a latency bound."""

    availability: float = Field(gt=0, lt=100)
    latency: Duration
    error_rate: float = Field(gt=0, lt=100)
    # Percent of runs that must finish within `latency`: 95 makes `latency` the p95 bound.
    latency_objective: float = Field(default=95, gt=0, lt=100)
    # How far ahead the latency trend alert looks (exporter/generate/predict.py).
    latency_horizon: Duration = 900.0
    runbook_url: str = ""


class Tenant(StrictModel):
    tier: Name
    display_name: str = ""
