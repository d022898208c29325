"""What the Alertmanager builders return: small immutable values that only render.py writes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Matcher:
    """`name op "value"`, Alertmanager's matcher; a missing label matches as the empty string."""

    name: str
    value: str
    op: str = "="  # =, !=, =~ or !~

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'

    def matches(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.name, "")
        if self.op in ("=", "!="):
            return (value == self.value) == (self.op == "=")
        # Alertmanager anchors its regular expressions, as fullmatch does.
        return (re.fullmatch(self.value, value) is not None) == (self.op == "=~")


@dataclass(frozen=True, slots=True)
class Slack:
    api_url_file: str
    channel: str = ""
    username: str = ""
    icon_emoji: str = ""


@dataclass(frozen=True, slots=True)
class PagerDuty:
    routing_key_file: str
    url: str = ""


@dataclass(frozen=True, slots=True)
class Email:
    to: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Webhook:
    url: str
    credentials_file: str = ""


Integration = Slack | PagerDuty | Email | Webhook


@dataclass(frozen=True, slots=True)
class Part:
    """One config receiver inside an Alertmanager receiver: its name and where it delivers."""

    name: str
    integration: Integration | None  # None: delivers nowhere (the default of no routing)


@dataclass(frozen=True, slots=True)
class Receiver:
    """An Alertmanager receiver: the config receivers one route delivers to, together."""

    name: str
    parts: tuple[Part, ...] = ()  # none: a null receiver that notifies nobody


@dataclass(frozen=True, slots=True)
class Route:
    receiver: str
    matchers: tuple[Matcher, ...] = ()
    continue_: bool = False
    group_by: tuple[str, ...] = ()
    group_wait: str = ""  # "" inherits the parent's
    group_interval: str = ""
    repeat_interval: str = ""
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    routes: tuple[Route, ...] = ()
    # Where the route comes from, for messages: "routing.contexts.zebra_opportunity". Not
    # rendered. Routes with an empty origin stand for the root's default and are exempt from
    # the unreachable-route report.
    origin: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class InhibitRule:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TimeSpec:
    """One entry of a time interval, in Alertmanager's own terms."""

    times: tuple[tuple[str, str], ...] = ()
    weekdays: tuple[str, ...] = ()
    days_of_month: tuple[str, ...] = ()
    months: tuple[str, ...] = ()
    years: tuple[str, ...] = ()
    location: str = ""


@dataclass(frozen=True, slots=True)
class TimeInterval:
    name: str
    specs: tuple[TimeSpec, ...]


@dataclass(frozen=True, slots=True)
class Smtp:
    smarthost: str
    from_: str
    auth_username: str = ""
    auth_password_file: str = ""
    require_tls: bool = True


@dataclass(frozen=True, slots=True)
class AlertmanagerConfig:
    """alertmanager/alertmanager.yml"""

    route: Route
    receivers: tuple[Receiver, ...]
    inhibit_rules: tuple[InhibitRule, ...]
    time_intervals: tuple[TimeInterval, ...] = ()
    smtp: Smtp | None = None
    templates: tuple[str, ...] = ()  # globs relative to alertmanager.yml


@dataclass(frozen=True, slots=True)
class RoutingCase:
    """An alert's label set and the receivers it must reach, in any order."""

    name: str
    labels: dict[str, str]
    receivers: tuple[str, ...]
    # The maintenance time intervals that must mute every route it reaches
    # (alertmanager/maintenance.py).
    mutes: tuple[str, ...] = ()
