"""Declared dependencies, generated: the root cause pages, its symptoms do not.

A target's dependencies (exporter/config/dependencies.py) become Alertmanager inhibit rules:
while a dependency's alert fires, the alerts of every target that needs it, directly or through
others, are muted, and so are the outage and whole-of alerts that stand only for such targets.
A rule mutes alerts as severe as the dependency's or less: a symptom louder than its cause would
otherwise go quiet while the cause pages more softly, or not at all.

Inhibition works from the moment the dependency's alert fires. A check that cannot run is the
usual symptom of a dependency down (no connection, no answer), and it may fail before the
dependency's own thresholds are met: BusinessCannotVerify therefore waits (`for`) as long as its
dependencies can take to be detected. Failure alerts do not wait: what users feel is paged now,
and muted once its cause is known. In Prometheus, what these rules mute is also quiet while its
cause fails and until it can be seen fixed (rules/symptoms.py): Alertmanager stops muting the moment
the cause's alert resolves, often before its symptoms have run again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from exporter import conventions as c
from exporter.config import Config, Target
from exporter.config.dependencies import all_dependencies
from exporter.generate.alertmanager.model import InhibitRule, Matcher
from exporter.generate.rules.outage import outages


def detection_seconds(target: Target) -> float:
    """The longest a fault can take to make the target failing: a run can start just before
    it, then failure_threshold runs, the last one taking its whole timeout."""
    return target.failure_threshold * target.interval + target.timeout


def hold_seconds(config: Config, targets: Iterable[Target]) -> float:
    """How long a could-not-check alert of these targets waits for their dependencies to be
    detected: the longest detection of a dependency whose alert can mute it, less the earliest
    the target itself can turn failing ((failure_threshold - 1) intervals after the fault)."""
    closure = all_dependencies(config)
    hold = 0.0
    for target in targets:
        soonest = (target.failure_threshold - 1) * target.interval
        for name in closure.get(target.name, ()):
            dependency = config.target(name)
            if _can_mute(config, dependency, target):
                assert dependency is not None
                hold = max(hold, detection_seconds(dependency) - soonest)
    return hold


def _can_mute(config: Config, dependency: Target | None, target: Target) -> bool:
    """Whether the dependency has an alert, as severe as the target's or more."""
    if dependency is None or dependency.alert not in config.alerts:
        return False
    return target.severity in quieter(dependency.severity)


def quieter(severity: str) -> tuple[str, ...]:
    """This severity and every less urgent one."""
    return c.SEVERITIES[c.SEVERITIES.index(severity) :]


def one_of(name: str, values: Sequence[str]) -> Matcher:
    """`name="v"`, or `name=~"a|b"` for several (names hold nothing a regex would read)."""
    if len(values) == 1:
        return Matcher(name, values[0])
    return Matcher(name, "|".join(values), "=~")


def dependents(config: Config) -> dict[str, list[Target]]:
    """Each dependency's dependents, direct or not, in config order."""
    closure = all_dependencies(config)
    out: dict[str, list[Target]] = {}
    for target in config.targets:
        for name in closure.get(target.name, ()):
            out.setdefault(name, []).append(target)
    return out


def inhibit_rules(config: Config) -> tuple[InhibitRule, ...]:
    """One rule per dependency alert, severity and set of dependents, for their own alerts,
    then one per tenant for the outage and whole-of alerts that only stand for dependents."""
    groups: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    needed_by = dependents(config)
    for dependency in config.targets:
        if dependency.name in needed_by and dependency.alert in config.alerts:
            key = (
                c.alert_name(dependency.alert),
                dependency.severity,
                tuple(t.name for t in needed_by[dependency.name]),
            )
            groups.setdefault(key, []).append(dependency.name)
    rules = []
    for (alertname, severity, needy_names), sources in groups.items():
        source = (Matcher("alertname", alertname), one_of(c.LABEL_PROBE, sources))
        muted = Matcher(c.LABEL_SEVERITY, "|".join(quieter(severity)), "=~")
        needy = [t for t in config.targets if t.name in needy_names]
        mutable = [t for t in needy if t.severity in quieter(severity)]
        if mutable:
            names = sorted(
                {_alertname(config, t) for t in mutable} | _cannot_verify(config, mutable)
            )
            own = (one_of("alertname", names), one_of(c.LABEL_PROBE, [t.name for t in mutable]))
            rules.append(InhibitRule(source, (*own, muted), ()))
        for symptom in _standing_for(config, set(needy_names), quieter(severity)):
            rules.append(InhibitRule(source, (*symptom, muted), ()))
    return tuple(rules)


def _alertname(config: Config, target: Target) -> str:
    return c.alert_name(target.alert) if target.alert in config.alerts else ""


def _cannot_verify(config: Config, targets: Iterable[Target]) -> set[str]:
    violation = (config.alerts.get(t.alert or "") for t in targets)
    if any(alert is not None and alert.fires_on == "violation" for alert in violation):
        return {c.ALERT_CANNOT_VERIFY}
    return set()


def _standing_for(
    config: Config, names: set[str], severities: Sequence[str]
) -> list[tuple[Matcher, ...]]:
    """Matchers of the outage and whole-of alerts of these severities whose targets are all
    among `names`."""
    found: list[tuple[Matcher, ...]] = []
    by_tenant: dict[str, list[str]] = {}
    for outage in outages(config):
        if outage.severity in severities and all(t.name in names for t in outage.targets):
            by_tenant.setdefault(outage.tenant, []).append(outage.service)
    for tenant, services in sorted(by_tenant.items()):
        found.append(
            (
                Matcher("alertname", c.ALERT_SERVICE_OUTAGE),
                one_of(c.LABEL_SERVICE, sorted(services)),
                Matcher(c.LABEL_TENANT, tenant),
            )
        )
    for name, alert in config.alerts.items():
        if alert.covers is None or alert.severity not in severities:
            continue
        for tenant, members in _by_tenant(config, alert.covers).items():
            if all(t.name in names for t in members):
                alertname = Matcher("alertname", c.alert_name(name))
                found.append((alertname, Matcher(c.LABEL_TENANT, tenant)))
    return found


def _by_tenant(config: Config, definition: str) -> dict[str, list[Target]]:
    out: dict[str, list[Target]] = {}
    for target in config.targets:
        if target.alert == definition:
            out.setdefault(target.tenant, []).append(target)
    return dict(sorted(out.items()))


def dependency_graph(config: Config) -> str:
    """The graph as the config declares it, a mermaid flowchart: an arrow from a target or a
    service (a box around its targets) to what it needs."""

    def node(name: str) -> str:
        if config.target(name) is not None:
            return name
        boxes.setdefault(name, None)
        return f"service_{name}"

    boxes: dict[str, None] = dict.fromkeys(config.services)
    edges: dict[str, None] = {}
    for target in config.targets:
        for name in target.depends_on:
            edges[f"  {target.name} --> {node(name)}"] = None
    for service, spec in config.services.items():
        for name in spec.depends_on:
            edges[f"  service_{service} --> {node(name)}"] = None
    lines = ["```mermaid", "flowchart LR"]
    for service in boxes:
        lines.append(f'  subgraph service_{service} ["service {service}"]')
        lines += [f"    {t.name}" for t in config.targets if t.service == service]
        lines.append("  end")
    return "\n".join([*lines, *edges, "```"]) + "\n"
