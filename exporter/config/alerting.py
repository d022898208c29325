"""Alerting: receivers (secrets by file only), the SMTP account, and the routing policy.

None of it is read by `serve`: the generator writes it into the Alertmanager config, and
Alertmanager reads the secret files when it loads that config.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator

from exporter.config.types import Duration, Name, Severity, StrictModel, parse_duration

RECEIVER_KINDS = ("slack", "pagerduty", "email", "webhook")
# Literal secrets a receiver kind refuses, and the file field to use instead.
_LITERAL_SECRETS = {
    "slack": {"api_url": "api_url_file"},
    "pagerduty": {"routing_key": "routing_key_file", "service_key": "routing_key_file"},
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_HOST_PORT = re.compile(r"^[^\s:]+:\d{1,5}$")
_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MONTHS = (
    *("january", "february", "march", "april", "may", "june", "july"),
    *("august", "september", "october", "november", "december"),
)


def _secret_file(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("must be the path of the file that holds the secret")
    if not value.startswith("/"):
        # Alertmanager reads a relative path from the directory of alertmanager.yml.
        raise ValueError(f"must be an absolute path, not {value!r}")
    return value


def _http_url(value: object) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"must be an http:// or https:// URL, not {value!r}")
    return value


def _duration_or_zero(value: object) -> float:
    return parse_duration(value)


SecretFile = Annotated[str, BeforeValidator(_secret_file)]
HttpURL = Annotated[str, BeforeValidator(_http_url)]
Wait = Annotated[float, BeforeValidator(_duration_or_zero)]  # group_wait may be 0s


def _refuse_literal_secrets(kind: str, data: Any) -> Any:
    for literal, file_field in _LITERAL_SECRETS[kind].items():
        if isinstance(data, dict) and literal in data:
            raise ValueError(
                f"{literal} would write a secret into the generated bundle: put it in a file "
                f"and set {file_field} to its path"
            )
    return data


class SlackReceiver(StrictModel):
    """A Slack incoming webhook; its URL is a secret that Alertmanager reads from a file."""

    api_url_file: SecretFile
    channel: str = ""
    username: str = ""
    icon_emoji: str = ""

    @model_validator(mode="before")
    @classmethod
    def _file_only(cls, data: Any) -> Any:
        return _refuse_literal_secrets("slack", data)


class PagerDutyReceiver(StrictModel):
    """A PagerDuty Events API v2 integration; its routing key is read from a file."""

    routing_key_file: SecretFile
    url: HttpURL | None = None  # the Events API endpoint, e.g. a local sink in tests

    @model_validator(mode="before")
    @classmethod
    def _file_only(cls, data: Any) -> Any:
        return _refuse_literal_secrets("pagerduty", data)


class EmailReceiver(StrictModel):
    """Mail through the `smtp:` account."""

    to: list[str] = Field(min_length=1)

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if not _EMAIL.match(address):
                raise ValueError(f"{address!r} is not an email address")
        return value


class WebhookReceiver(StrictModel):
    """Alertmanager's webhook JSON, POSTed to a URL; a bearer token may come from a file."""

    url: HttpURL
    credentials_file: SecretFile | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_url_file(cls, data: Any) -> Any:
        if isinstance(data, dict) and "url_file" in data:
            raise ValueError(
                "url_file needs Alertmanager 0.26 or later (Debian ships 0.25): set url, and "
                "keep the secret in credentials_file"
            )
        return data


class Receiver(StrictModel):
    """One place notifications go: exactly one of slack, pagerduty, email, webhook."""

    slack: SlackReceiver | None = None
    pagerduty: PagerDutyReceiver | None = None
    email: EmailReceiver | None = None
    webhook: WebhookReceiver | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Receiver:
        given = [k for k in RECEIVER_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"needs exactly one of: {', '.join(RECEIVER_KINDS)}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in RECEIVER_KINDS if getattr(self, k) is not None)


class Smtp(StrictModel):
    """The mail account every email receiver sends through."""

    smarthost: str
    from_: str = Field(alias="from")
    auth_username: str = ""
    auth_password_file: SecretFile | None = None
    require_tls: bool = True

    @field_validator("smarthost")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if not _HOST_PORT.match(value):
            raise ValueError(f"must be HOST:PORT, not {value!r}")
        return value

    @field_validator("from_")
    @classmethod
    def _address(cls, value: str) -> str:
        if not _EMAIL.search(value.rsplit("<", 1)[-1].rstrip(">")):
            raise ValueError(f"{value!r} is not an email address")
        return value

    @model_validator(mode="after")
    def _auth(self) -> Smtp:
        if self.auth_password_file and not self.auth_username:
            raise ValueError("auth_password_file needs auth_username")
        return self


class TimeRange(StrictModel):
    start_time: str
    end_time: str

    @field_validator("start_time", "end_time")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _TIME.match(value):
            raise ValueError(f"must be a time of day HH:MM from 00:00 to 24:00, not {value!r}")
        return value

    @model_validator(mode="after")
    def _order(self) -> TimeRange:
        if self.start_time >= self.end_time:
            raise ValueError("start_time must be before end_time")
        return self


def _ranges(values: list[str], word: str, example: str, check: Any) -> list[str]:
    """Each value is X or X:Y (Alertmanager's inclusive ranges), each end accepted by check."""
    for value in values:
        ends = value.split(":")
        if len(ends) > 2 or not all(check(end) for end in ends):
            raise ValueError(f"{value!r} is not a {word} or a range such as {example!r}")
    return values


def _day_of_month(text: str) -> bool:
    return bool(re.match(r"^-?\d{1,2}$", text)) and 1 <= abs(int(text)) <= 31


class TimeInterval(StrictModel):
    """Alertmanager's time_interval: all the given fields must hold; an empty one always holds."""

    times: list[TimeRange] = Field(default_factory=list)
    weekdays: list[str] = Field(default_factory=list)
    days_of_month: list[str] = Field(default_factory=list)
    months: list[str] = Field(default_factory=list)
    years: list[str] = Field(default_factory=list)
    location: str | None = None

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[str]) -> list[str]:
        return _ranges(value, "weekday", "monday:friday", lambda d: d.lower() in WEEKDAYS)

    @field_validator("days_of_month")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        return _ranges(value, "day of the month", "1:15", _day_of_month)

    @field_validator("months")
    @classmethod
    def _months(cls, value: list[str]) -> list[str]:
        return _ranges(
            value,
            "month",
            "january:march",
            lambda m: m.lower() in MONTHS or (m.isdigit() and 1 <= int(m) <= 12),
        )

    @field_validator("years")
    @classmethod
    def _years(cls, value: list[str]) -> list[str]:
        return _ranges(value, "year", "2025:2026", lambda y: bool(re.match(r"^\d{4}$", y)))

    @field_validator("location")
    @classmethod
    def _location(cls, value: str | None) -> str | None:
        try:
            if value is not None:
                zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone such as Europe/London") from None
        return value


class RouteSpec(StrictModel):
    """Where the alerts of one severity or context go, how often, and when."""

    receivers: list[Name] = Field(min_length=1)
    group_wait: Wait | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    mute_time_intervals: list[Name] = Field(default_factory=list)
    active_time_intervals: list[Name] = Field(default_factory=list)


class Routing(StrictModel):
    """The routing policy: on-call by severity, context receivers on top, escalation levels."""

    receiver: Name  # everything no severity route takes
    group_wait: Wait = 30.0
    group_interval: Duration = 300.0
    repeat_interval: Duration = 4 * 3600.0
    severities: dict[Severity, RouteSpec] = Field(default_factory=dict)
    contexts: dict[Name, RouteSpec] = Field(default_factory=dict)
    # An escalation_chain entry (oncall_engineer, cto...) -> who hears of levels 1 and above.
    escalation: dict[Name, Annotated[list[Name], Field(min_length=1)]] = Field(default_factory=dict)
    watchdog: Name | None = None  # a dead man's switch; none: the Watchdog notifies nobody
    time_intervals: dict[Name, list[TimeInterval]] = Field(default_factory=dict)
