"""The config file: strict typed models, `parse_config(text)` and `load_config(path)`."""

from exporter.config.business import Alert, Context, RevenueAtRisk, Tenant, Tier
from exporter.config.http import BasicAuth, BodyCheck, HTTPSpec, RequestSpec
from exporter.config.load import ConfigError, load_config, parse_config
from exporter.config.model import KINDS, Config, Defaults, Target
from exporter.config.tls import TLSSettings
from exporter.config.types import (
    Duration,
    HeaderValue,
    Name,
    SecretSource,
    StrictModel,
    format_duration,
    parse_duration,
    reveal,
)

__all__ = [
    "KINDS",
    "Alert",
    "BasicAuth",
    "BodyCheck",
    "Config",
    "ConfigError",
    "Context",
    "Defaults",
    "Duration",
    "HTTPSpec",
    "HeaderValue",
    "Name",
    "RequestSpec",
    "RevenueAtRisk",
    "SecretSource",
    "StrictModel",
    "TLSSettings",
    "Target",
    "Tenant",
    "Tier",
    "format_duration",
    "load_config",
    "parse_config",
    "parse_duration",
    "reveal",
]
