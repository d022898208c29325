"""Alertmanager's webhook notifications as the demo prints them: one line per alert notified.

    17:27:44 FIRING   ZebraAdminFailure service=admin tenant=zebra_associates
        probe=zebra_admin_login_flow severity=critical -> email_matt_lindop + slack_zebra_channel

(on one line). Alertmanager sends a group's whole state each time: the alerts already notified
come again, firing or resolved, whenever another alert of the group changes and at every
repeat_interval. The printer prints each alert once per receiver, status and start, so an old
resolution never shows up inside a new incident.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exporter import conventions as c

if TYPE_CHECKING:
    from exporter.demo.sink import Post

# Shown after the alert name when the alert has them, in this order.
_SHOWN_LABELS = (c.LABEL_SERVICE, c.LABEL_TENANT, c.LABEL_PROBE, c.LABEL_SEVERITY)
_REMEMBERED = 10_000  # notifications remembered for deduplication: a demo's worth


@dataclass(frozen=True, slots=True)
class Notification:
    """One alert in one webhook notification, to one Alertmanager receiver."""

    receiver: str  # the config receivers it went to, joined by " + "
    status: str  # firing or resolved
    labels: dict[str, str]
    fingerprint: str
    starts_at: str
    received: float  # time.time()
    monotonic: float

    @property
    def alertname(self) -> str:
        return self.labels.get("alertname", "?")

    @property
    def receivers(self) -> tuple[str, ...]:
        return tuple(self.receiver.split(" + "))

    @property
    def escalation_level(self) -> int:
        level = self.labels.get(c.LABEL_ESCALATION_LEVEL, "0")
        return int(level) if level.isdigit() else 0

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What makes it news: the same alert, start and status to the same receiver is not."""
        return (
            self.receiver,
            self.fingerprint or repr(sorted(self.labels.items())),
            self.status,
            self.starts_at,
        )


def notifications(post: Post) -> list[Notification]:
    """The alerts of an Alertmanager webhook POST; none when the body is something else."""
    body = post.body
    if not isinstance(body, dict) or not isinstance(body.get("alerts"), list):
        return []
    receiver = _receiver(str(body.get("receiver") or post.path.lstrip("/")))
    return [
        Notification(
            receiver=receiver,
            status=str(alert.get("status") or body.get("status") or "?"),
            labels={str(k): str(v) for k, v in (alert.get("labels") or {}).items()},
            fingerprint=str(alert.get("fingerprint") or ""),
            starts_at=str(alert.get("startsAt") or ""),
            received=post.received,
            monotonic=post.monotonic,
        )
        for alert in _dicts(body["alerts"])
    ]


def describe(notification: Notification) -> str:
    """The line the demo prints for it."""
    start = line(notification.received, notification.status, notification.labels)
    return f"{start} -> {notification.receiver}"


def line(when: float, status: str, labels: Mapping[str, str]) -> str:
    """ "17:27:44 FIRING   ZebraAdminFailure service=admin ... severity=critical": the start of
    each line the demo prints about an alert."""
    stamp = time.strftime("%H:%M:%S", time.localtime(when))
    shown = [f"{name}={labels[name]}" for name in _SHOWN_LABELS if labels.get(name)]
    level = labels.get(c.LABEL_ESCALATION_LEVEL, "0")
    if level not in ("", "0"):
        shown.append(f"{c.LABEL_ESCALATION_LEVEL}={level}")
    alert = labels.get("alertname", "?")
    return f"{stamp} {status.upper():<8} {alert} {' '.join(shown)}"


class NotificationPrinter:
    """An `on_post` for WebhookSink: prints each new notification, one line per alert.

    A receiver made of several config receivers sends one POST per part, all with the same
    body; a group's later notifications repeat what it already said: both are printed once.
    The Watchdog's pings to a dead man's switch are not printed.
    """

    def __init__(self) -> None:
        self._seen: OrderedDict[tuple[str, ...], None] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, post: Post) -> None:
        for line in self.new_lines(post):
            print(line, flush=True)

    def new_lines(self, post: Post) -> list[str]:
        """The lines of the notifications of `post` not printed before, remembering them."""
        lines = []
        with self._lock:
            for notification in notifications(post):
                if notification.alertname == c.ALERT_WATCHDOG or notification.key in self._seen:
                    continue
                self._seen[notification.key] = None
                if len(self._seen) > _REMEMBERED:
                    self._seen.popitem(last=False)
                lines.append(describe(notification))
        return lines


def new_notifications(posts: list[Post]) -> Iterator[Notification]:
    """Each notification of `posts` the first time it arrives, as the printer prints them."""
    seen: set[tuple[str, ...]] = set()
    for post in posts:
        for notification in notifications(post):
            if notification.alertname != c.ALERT_WATCHDOG and notification.key not in seen:
                seen.add(notification.key)
                yield notification


def _receiver(name: str) -> str:
    # Alertmanager quotes the receiver name as a regular expression: a\+b for a+b.
    return re.sub(r"\\(.)", r"\1", name).replace("+", " + ")


def _dicts(items: list[Any]) -> Iterator[dict[str, Any]]:
    return (item for item in items if isinstance(item, dict))
