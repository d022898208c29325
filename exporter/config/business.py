"""Business context: contexts, alert definitions (seed 003), SLA tiers (seed 004), tenants."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from exporter.config.types import Duration, Name, Severity, StrictModel


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


class Tier(StrictModel):
    """SLA targets of a service tier, in percent and a latency bound."""

    availability: float = Field(gt=0, lt=100)
    latency: Duration
    error_rate: float = Field(gt=0, lt=100)


class Tenant(StrictModel):
    tier: Name
    display_name: str = ""
