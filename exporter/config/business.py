"""Business context: contexts, alert definitions (seed 003), SLA tiers (seed 004), tenants."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from exporter.config.types import Duration, Name, Severity, StrictModel
from exporter.conventions import MESSAGE_PLACEHOLDERS

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Placeholders that name one target: a definition that `covers` others fires per tenant.
TARGET_PLACEHOLDERS = ("probe", "service", "tier")
_TEXTS = ("summary", "business_impact", "stakeholder_message", "technical_message", "runbook_url")


def _percent(value: object) -> int:
    """`75%` (or 75): a whole percentage from 1 to 100, so PromQL compares counts exactly."""
    text = str(value).strip() if isinstance(value, int | str) else ""
    digits = text.removesuffix("%").strip()
    if isinstance(value, bool) or not digits.isdigit() or not 1 <= int(digits) <= 100:
        raise ValueError(f"must be a whole percentage from 1% to 100%, such as 75%, not {value!r}")
    return int(digits)


Percent = Annotated[int, BeforeValidator(_percent)]


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
    # failure: fires while its target is failing, whatever the reason (an outage is the
    # problem). violation: fires only when a run found the problem (RLS off, a route missing);
    # a check that could not run raises BusinessCannotVerify instead, in unverified_context.
    fires_on: Literal["failure", "violation"] = "failure"
    unverified_context: Name | None = None  # default: operational (conventions.SELF_CONTEXT)
    # A whole-of alert: fires per tenant while `quorum` of the targets of alert `covers` fail at
    # once, and mutes their own alerts meanwhile. Targets reference the covered alert, not this.
    covers: Name | None = None
    quorum: Percent = 100

    @field_validator(*_TEXTS)
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
        if self.unverified_context is not None and self.fires_on != "violation":
            raise ValueError("unverified_context needs fires_on: violation")
        if "quorum" in self.model_fields_set and self.covers is None:
            raise ValueError("quorum needs covers: the alert whose targets it counts")
        if self.covers is not None and self.fires_on != "failure":
            raise ValueError("an alert that covers others fires on their failure: no fires_on")
        return self

    def target_placeholders(self) -> list[tuple[str, str]]:
        """(field, placeholder) for each text that names one target: wrong when it covers."""
        return [
            (field, name)
            for field in _TEXTS
            for name in _PLACEHOLDER.findall(getattr(self, field))
            if name in TARGET_PLACEHOLDERS
        ]


class Service(StrictModel):
    """What a service needs to work: its targets' failures are symptoms of these failing."""

    depends_on: list[Name] = Field(min_length=1)


class Tier(StrictModel):
    """SLA targets of a service tier, in percent and a latency bound."""

    availability: float = Field(gt=0, lt=100)
    latency: Duration
    error_rate: float = Field(gt=0, lt=100)
    # Percent of runs that must finish within `latency`: 95 makes `latency` the p95 bound.
    latency_objective: float = Field(default=95, gt=0, lt=100)
    # How far ahead the latency trend alert looks (exporter/generate/rules/predict.py).
    latency_horizon: Duration = 900.0
    runbook_url: str = ""


class Tenant(StrictModel):
    tier: Name
    display_name: str = ""
    # Publish /status/<tenant>: its services' state and recent history, nothing internal.
    status_page: bool = False
