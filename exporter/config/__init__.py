"""The config file: strict typed models, `parse_config(text)` and `load_config(path)`."""

from exporter.config.http import BasicAuth, BodyCheck, HTTPSpec, TLSSettings
from exporter.config.load import ConfigError, load_config, parse_config
from exporter.config.model import KINDS, Config, Defaults, RevenueAtRisk, Target
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
    "BasicAuth",
    "BodyCheck",
    "Config",
    "ConfigError",
    "Defaults",
    "Duration",
    "HTTPSpec",
    "HeaderValue",
    "Name",
    "RevenueAtRisk",
    "SecretSource",
    "StrictModel",
    "TLSSettings",
    "Target",
    "format_duration",
    "load_config",
    "parse_config",
    "parse_duration",
    "reveal",
]
