"""Inhibition test cases: for every declared dependency, which alerts its alert mutes.

Each case is a firing source alert, a target alert and whether Alertmanager must hold the target
back while the source fires: every dependent's alerts (its definition's level 0, and its
BusinessCannotVerify) as severe as the dependency's or less are muted, a more severe one is
not; so are the outage and whole-of alerts that stand only for dependents. The label sets are
the rules' own, on each target's labels, as Prometheus sends them. `generate` walks each case
through the generated inhibit rules (`problems`); tests post them to a real Alertmanager.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from exporter import conventions as c
from exporter.config import Config, Target
from exporter.generate.alertmanager.inhibition import dependents, quieter
from exporter.generate.alertmanager.model import InhibitRule
from exporter.generate.alertmanager.routing_cases import alert_labels
from exporter.generate.rules.alerts import definition_rules, fired_definitions
from exporter.generate.rules.outage import outage_rule, outages


@dataclass(frozen=True, slots=True)
class InhibitionCase:
    name: str
    source: dict[str, str]
    target: dict[str, str]
    muted: bool


def inhibition_cases(config: Config) -> tuple[InhibitionCase, ...]:
    """One case per dependency and each alert of what depends on it, in config order."""
    needed_by = dependents(config)
    cases = []
    for dependency in config.targets:
        if dependency.name not in needed_by or dependency.alert not in config.alerts:
            continue
        (source,) = list(_alerts(config, dependency))[:1]
        loud_enough = quieter(dependency.severity)
        for target in _symptoms(config, needed_by[dependency.name]):
            muted = target[c.LABEL_SEVERITY] in loud_enough
            cases.append(InhibitionCase(_name(source, target, muted), source, target, muted))
    return tuple(cases)


def muted_by(
    rules: Sequence[InhibitRule], source: Mapping[str, str], target: Mapping[str, str]
) -> bool:
    """Whether a firing `source` holds `target` back under `rules`, as Alertmanager decides."""
    return any(
        all(m.matches(source) for m in rule.source)
        and all(m.matches(target) for m in rule.target)
        and all(source.get(n, "") == target.get(n, "") for n in rule.equal)
        for rule in rules
    )


def problems(rules: Sequence[InhibitRule], cases: Sequence[InhibitionCase]) -> list[str]:
    """Each case the rules decide otherwise, one line each."""
    return [
        f"inhibition case {case.name!r}: the generated inhibit rules "
        f"{'do not mute' if case.muted else 'mute'} it"
        for case in cases
        if muted_by(rules, case.source, case.target) != case.muted
    ]


def _alerts(config: Config, target: Target) -> Iterator[dict[str, str]]:
    """The level-0 alerts a target's definition fires for it (with BusinessCannotVerify)."""
    if target.alert not in config.alerts or config.alerts[target.alert].covers is not None:
        return
    for rule in definition_rules(config, target.alert or ""):
        if rule.labels.get(c.LABEL_ESCALATION_LEVEL) == "0":
            yield alert_labels(rule, target.static_labels())


def _symptoms(config: Config, needy: Sequence[Target]) -> Iterator[dict[str, str]]:
    names = {t.name for t in needy}
    for target in needy:
        yield from _alerts(config, target)
    for outage in outages(config):
        if all(t.name in names for t in outage.targets):
            yield alert_labels(outage_rule(outage))
    for name in fired_definitions(config):
        alert = config.alerts[name]
        if alert.covers is None:
            continue
        tenants = {t.tenant for t in config.targets if t.alert == alert.covers}
        for tenant in sorted(tenants):
            members = [t for t in config.targets if t.alert == alert.covers and t.tenant == tenant]
            if all(t.name in names for t in members):
                yield alert_labels(definition_rules(config, name)[0], {c.LABEL_TENANT: tenant})


def _name(source: Mapping[str, str], target: Mapping[str, str], muted: bool) -> str:
    def what(labels: Mapping[str, str]) -> str:
        where = labels.get(c.LABEL_PROBE) or "/".join(
            labels[k] for k in (c.LABEL_SERVICE, c.LABEL_TENANT) if k in labels
        )
        return f"{labels['alertname']} {where}"

    return f"{what(source)} {'mutes' if muted else 'does not mute'} {what(target)}"
