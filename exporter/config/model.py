"""The config file's shape: defaults, targets and their business context."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from exporter.config.alerting import Receiver, Routing, Smtp
from exporter.config.app import AppSpec
from exporter.config.business import Alert, Context, RevenueAtRisk, Service, Tenant, Tier
from exporter.config.http import HTTPSpec
from exporter.config.maintenance import MaintenanceWindow
from exporter.config.openapi import OpenAPISpec
from exporter.config.postgres import PostgresSpec
from exporter.config.redis import RedisSpec
from exporter.config.steps import StepsSpec
from exporter.config.tcp import TCPSpec
from exporter.config.tls import CertificateExpiry
from exporter.config.types import (
    Duration,
    Interval,
    Labels,
    Name,
    ProbeSpec,
    Severity,
    StrictModel,
)
from exporter.conventions import SEVERITIES
from exporter.labels import series_labels

# Fields a target takes from `defaults:` when it does not set them itself.
INHERITED = ("interval", "timeout", "failure_threshold", "success_threshold", "tenant", "tier")
KINDS = ("http", "openapi", "steps", "tcp", "postgres", "redis")


class Defaults(StrictModel):
    interval: Interval = 30.0
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
    interval: Interval = 30.0
    timeout: Duration = 10.0
    failure_threshold: int = Field(default=2, ge=1)
    success_threshold: int = Field(default=2, ge=1)
    alert: Name | None = None
    # Targets (by name) or services this one needs: their failure mutes this one's alerts.
    depends_on: list[Name] = Field(default_factory=list)
    per_tenant: bool = False
    http: HTTPSpec | None = None
    openapi: OpenAPISpec | None = None
    steps: StepsSpec | None = None
    tcp: TCPSpec | None = None
    postgres: PostgresSpec | None = None
    redis: RedisSpec | None = None

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
    def spec(self) -> ProbeSpec:
        spec: ProbeSpec = getattr(self, self.kind)
        return spec

    def static_labels(self) -> dict[str, str]:
        """The label set every series of this target carries, in exposition order."""
        own = sorted(self.labels.items())
        return series_labels(
            self.name,
            self.kind,
            self.severity,
            self.context,
            self.tenant,
            self.tier,
            self.service,
            own,
        )


def _inherit(target: Target, field: str, value: Any) -> None:
    # Not setattr: that would add the field to model_fields_set, which must keep saying
    # what the file itself set (error messages point at the field the user wrote).
    target.__dict__[field] = value


class Config(StrictModel):
    defaults: Defaults = Field(default_factory=Defaults)
    contexts: dict[Name, Context] = Field(default_factory=dict)
    alerts: dict[Name, Alert] = Field(default_factory=dict)
    tiers: dict[Name, Tier] = Field(default_factory=dict)
    tenants: dict[Name, Tenant] = Field(default_factory=dict)
    services: dict[Name, Service] = Field(default_factory=dict)
    targets: list[Target] = Field(default_factory=list)
    # The generated alert on certificates of TLS targets that expire soon.
    certificate_expiry: CertificateExpiry = Field(default_factory=CertificateExpiry)
    # The application's own checks: validate-app and the in-app integration (config/app.py).
    app: AppSpec | None = None
    # Alertmanager's side, read by `generate` only (exporter/config/alerting.py).
    receivers: dict[Name, Receiver] = Field(default_factory=dict)
    smtp: Smtp | None = None
    routing: Routing | None = None
    # Planned work that pages nobody and costs no error budget (exporter/config/maintenance.py).
    maintenance: dict[Name, MaintenanceWindow] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _severity_of_alert(cls, data: Any) -> Any:
        """A target that references an alert fires at its severity: it need not repeat it, and
        references.py reports one that says otherwise."""
        if not isinstance(data, dict):
            return data
        alerts, targets = data.get("alerts"), data.get("targets")
        if not isinstance(alerts, dict) or not isinstance(targets, list):
            return data
        filled = []
        for target in targets:
            name = target.get("alert") if isinstance(target, dict) else None
            alert = alerts.get(name) if isinstance(name, str) else None
            severity = alert.get("severity") if isinstance(alert, dict) else None
            if severity in SEVERITIES and "severity" not in target:
                target = {**target, "severity": severity}
            filled.append(target)
        return {**data, "targets": filled}

    @model_validator(mode="after")
    def _inherit(self) -> Config:
        """Fill what a target leaves out: defaults, its tenant's tier, its context's revenue."""
        for target in self.targets:
            explicit = target.model_fields_set
            for field in INHERITED:
                if field not in explicit:
                    _inherit(target, field, getattr(self.defaults, field))
            _inherit(target, "labels", {**self.defaults.labels, **target.labels})
            tenant = self.tenants.get(target.tenant)
            if tenant is not None and "tier" not in explicit:
                _inherit(target, "tier", tenant.tier)
            context = self.contexts.get(target.context)
            if target.revenue_at_risk is None and context is not None:
                _inherit(target, "revenue_at_risk", context.revenue_at_risk)
        return self

    def target(self, name: str) -> Target | None:
        return next((t for t in self.targets if t.name == name), None)
