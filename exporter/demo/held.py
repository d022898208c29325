"""Say when Alertmanager holds an alert back, so that silence is never left unexplained.

Alertmanager's API marks an inhibited or silenced alert as suppressed; it says nothing of a
route whose mute or active time interval holds the notification back (Alertmanager 0.25; 0.28
added that). This watcher asks Alertmanager for its alerts every few seconds, walks each through
the generated routing tree, and prints one line per alert and reason, once:

    23:41:07 HELD     SessionStorageFailure service=sessions ... -> email_digest + slack_alerts:
             active only in business_hours: monday:friday 09:00-18:00 Europe/London
    17:30:02 INHIBITED ZebraAdminFailure ... by BusinessServiceOutage service=admin tenant=...

(each on one line).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from exporter import conventions as c
from exporter.config import Config
from exporter.demo.expect import describe_labels, routes_of
from exporter.demo.notifications import line
from exporter.generate.alertmanager.files import alertmanager_config

POLL_SECONDS = 2.0
_IDENTITY = (c.LABEL_SERVICE, c.LABEL_TENANT, c.LABEL_PROBE)


class HeldAlerts:
    """Lines about the alerts Alertmanager holds back, each said once."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._am = alertmanager_config(config)
        self._said: set[tuple[str, ...]] = set()

    def new_lines(self, alerts: list[dict[str, Any]], now: datetime) -> list[str]:
        """Lines not said before, for Alertmanager's `/api/v2/alerts` answer at `now`."""
        by_fingerprint = {a.get("fingerprint"): a for a in alerts}
        lines = []
        for alert in alerts:
            labels: Mapping[str, str] = alert.get("labels") or {}
            if labels.get("alertname") == c.ALERT_WATCHDOG:
                continue
            for key, text in self._reasons(alert, labels, by_fingerprint, now):
                if key not in self._said:
                    self._said.add(key)
                    lines.append(text)
        return lines

    def _reasons(
        self,
        alert: dict[str, Any],
        labels: Mapping[str, str],
        by_fingerprint: Mapping[object, dict[str, Any]],
        now: datetime,
    ) -> Iterator[tuple[tuple[str, ...], str]]:
        identity = (str(alert.get("fingerprint")), str(alert.get("startsAt")))
        status = alert.get("status") or {}
        stamp = now.timestamp()
        for fingerprint in status.get("inhibitedBy") or []:
            source = (by_fingerprint.get(fingerprint) or {}).get("labels") or {}
            by = f"{source.get('alertname', fingerprint)} {describe_labels(source, _IDENTITY)}"
            yield (*identity, "inhibited"), f"{line(stamp, 'inhibited', labels)} by {by.strip()}"
        if status.get("silencedBy"):
            yield (*identity, "silenced"), f"{line(stamp, 'silenced', labels)} by a silence"
        if status.get("inhibitedBy") or status.get("silencedBy"):
            return
        for route in routes_of(self._am, self.config, labels, now):
            if route.held is not None:
                receivers = " + ".join(route.receivers)
                text = f"{line(stamp, 'held', labels)} -> {receivers}: {route.held}"
                yield (*identity, route.receiver, route.held), text


def watch(
    held: HeldAlerts, alerts: Callable[[], list[dict[str, Any]]], stop: threading.Event
) -> None:
    """Print held.new_lines() for `alerts()` every POLL_SECONDS until `stop` is set."""
    while not stop.wait(POLL_SECONDS):
        try:
            current = alerts()
        except OSError:  # Alertmanager stopping, say: the next round will tell
            continue
        for text in held.new_lines(current, datetime.now(UTC)):
            print(text, flush=True)


def started(held: HeldAlerts, alerts: Callable[[], list[dict[str, Any]]]) -> Callable[[], None]:
    """Run watch() in a daemon thread; returns the function that stops it."""
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(held, alerts, stop), daemon=True, name="held")
    thread.start()

    def stopped() -> None:
        stop.set()
        thread.join(timeout=POLL_SECONDS + 5)

    return stopped
