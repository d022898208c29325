"""Alertmanager receivers from config receivers: one per distinct set a route delivers to.

A route that lists several config receivers (`critical: {receivers: [pagerduty_critical,
slack_alerts]}`) needs a single Alertmanager receiver holding all their integrations. It is
named by joining the config names in sorted order, so the same set always makes the same
receiver: "pagerduty_critical+slack_alerts". A single config receiver keeps its own name.
"""

from __future__ import annotations

from collections.abc import Iterable

from exporter import conventions as c
from exporter.config import Config
from exporter.config.alerting import Receiver as ConfigReceiver
from exporter.generate.alertmanager.model import (
    Email,
    Integration,
    PagerDuty,
    Part,
    Receiver,
    Slack,
    Webhook,
)


def receiver_name(names: Iterable[str]) -> str:
    """The Alertmanager receiver that delivers to all of `names`: "a+b" for ["b", "a"]."""
    return c.RECEIVER_JOIN.join(sorted(set(names)))


def receiver(config: Config, names: Iterable[str]) -> Receiver:
    """The receiver of a route to `names`; a name the config lacks delivers nowhere."""
    unique = sorted(set(names))
    return Receiver(receiver_name(unique), tuple(_part(config, name) for name in unique))


def blackhole() -> Receiver:
    """A receiver without integrations: what it gets, nobody hears of."""
    return Receiver(c.RECEIVER_BLACKHOLE)


def redirect(target: Receiver, notify_to: str) -> Receiver:
    """The same receiver, each part delivering to a webhook at `notify_to`/<part name>."""
    base = notify_to.rstrip("/")
    parts = tuple(Part(p.name, Webhook(f"{base}/{p.name}")) for p in target.parts)
    return Receiver(target.name, parts)


def _part(config: Config, name: str) -> Part:
    spec = config.receivers.get(name)
    return Part(name, None if spec is None else _integration(spec))


def _integration(spec: ConfigReceiver) -> Integration:
    if spec.slack is not None:
        s = spec.slack
        return Slack(s.api_url_file, s.channel, s.username, s.icon_emoji)
    if spec.pagerduty is not None:
        return PagerDuty(spec.pagerduty.routing_key_file, spec.pagerduty.url or "")
    if spec.email is not None:
        return Email(tuple(spec.email.to))
    assert spec.webhook is not None  # Receiver._one_kind
    return Webhook(spec.webhook.url, spec.webhook.credentials_file or "")
