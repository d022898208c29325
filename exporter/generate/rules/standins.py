"""Alerts that an outage or a whole-of alert stands for stay quiet until they can be seen fixed.

Alertmanager mutes a definition's level-0 alerts while the outage of their service and tenant
fires, and while a whole-of alert covering the definition fires in their tenant
(alertmanager.inhibit_rules). Those alerts resolve as soon as one of their targets passes
again, and the others, fixed by the same repair, still fail until their own success_threshold
runs: muted only in Alertmanager, each would page right after the fix. So the level-0 rules are
also silent in Prometheus while the alert standing for them fires, and for as long after as
the slowest target it stands for takes to be seen fixed (symptoms.quiet_seconds):

    business_probe_failing{job="business_exporter",probe=~"..."} == 1
    unless on (service, tenant)
      max_over_time(ALERTS{alertname="BusinessServiceOutage",alertstate="firing"}[3m10s]) == 1

It reads the standing alert's ALERTS series, as Alertmanager reads the alert: quiet only when
that alert fired (not in a maintenance window, not as a symptom of a dependency). A target
still failing once that time has passed is a partial outage, and pages. Escalations are not
muted by these alerts, and not quiet either: the target's failed last run stops them at the fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from exporter import conventions as c
from exporter.config import Config, format_duration
from exporter.generate.rules import messages as m
from exporter.generate.rules.definition import members, targets_of
from exporter.generate.rules.outage import outages
from exporter.generate.rules.symptoms import quiet_seconds


@dataclass(frozen=True, slots=True)
class StandIn:
    """An alert that stands for a definition's targets, as its level-0 rule reads it."""

    alertname: str
    on: tuple[str, ...]  # the labels it shares with the alerts it stands for
    seconds: int  # how long the level-0 rule stays quiet after it last fired

    @property
    def fired(self) -> str:
        """True while it fires, or fired within `seconds`."""
        alerts = m.selector("ALERTS", m.matcher("alertname", self.alertname), FIRING)
        return f"max_over_time({alerts}[{format_duration(self.seconds)}]) == 1"


FIRING = m.matcher("alertstate", "firing")


def quiet_under_stand_ins(config: Config, name: str, expr: str) -> str:
    """A per-target definition's level-0 `expr` (or its BusinessCannotVerify's), silent while
    an alert standing for its targets fires and until they can be seen fixed."""
    for stand_in in stand_ins(config, name):
        expr += f"\nunless on ({', '.join(stand_in.on)}) {stand_in.fired}"
    return expr


def stand_ins(config: Config, name: str) -> list[StandIn]:
    """The alerts that stand for the targets of definition `name`: their outage, then the
    whole-of alerts that cover it."""
    names = {t.name for t in targets_of(config, name)}
    found = []
    standing = [o for o in outages(config) if names & {t.name for t in o.targets}]
    if standing:
        slowest = quiet_seconds(t for o in standing for t in o.targets)
        found.append(StandIn(c.ALERT_SERVICE_OUTAGE, (c.LABEL_SERVICE, c.LABEL_TENANT), slowest))
    for whole, alert in config.alerts.items():
        if alert.covers == name:
            seconds = quiet_seconds(members(config, whole))
            found.append(StandIn(c.alert_name(whole), (c.LABEL_TENANT,), seconds))
    return found
