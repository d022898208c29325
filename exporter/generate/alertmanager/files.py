"""DIR/alertmanager/: alertmanager.yml, its templates, and the routing and inhibition tests.

Usage: `alertmanager_files(load_config("examples/marketedge.yaml"))` -> {path: text}. Raises
RoutingError when the tree is invalid or routes an alert against the config's policy: a bundle
that would lose alerts is never written. Routes no alert reaches, and receivers an alert
reaches twice, are not errors here: `routing_warnings` lists them, `generate` prints them and
`check` fails on them.
"""

from __future__ import annotations

from exporter import conventions as c
from exporter.config import Config
from exporter.config.alerting import TimeInterval as ConfigTimeInterval
from exporter.generate.alertmanager import inhibition, validate
from exporter.generate.alertmanager import inhibition_cases as am_inhibition
from exporter.generate.alertmanager import render as render_alertmanager
from exporter.generate.alertmanager.inhibition_cases import inhibition_cases
from exporter.generate.alertmanager.maintenance import maintenance_intervals, with_maintenance
from exporter.generate.alertmanager.model import (
    AlertmanagerConfig,
    InhibitRule,
    Matcher,
    RoutingCase,
    Smtp,
    TimeInterval,
    TimeSpec,
)
from exporter.generate.alertmanager.receivers import redirect
from exporter.generate.alertmanager.routes import route_tree
from exporter.generate.alertmanager.routing_cases import routing_cases
from exporter.generate.alertmanager.templates import TEMPLATES
from exporter.generate.rules.alerts import fired_definitions
from exporter.generate.rules.outage import outages

DIR = "alertmanager"
CONFIG_FILE = f"{DIR}/alertmanager.yml"
TEMPLATES_DIR = f"{DIR}/templates"
TESTS_DIR = f"{DIR}/tests"
ROUTING_TESTS_FILE = f"{TESTS_DIR}/routing.yml"
INHIBITION_TESTS_FILE = f"{TESTS_DIR}/inhibition.yml"
OWNED_DIRS = (DIR, TEMPLATES_DIR, TESTS_DIR)
TEMPLATE_GLOBS = ("templates/*.tmpl",)  # relative to alertmanager.yml, as Alertmanager reads it


class RoutingError(Exception):
    """The generated routing tree is invalid, or routes an alert against the policy."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def alertmanager_files(config: Config, notify_to: str = "") -> dict[str, str]:
    """alertmanager.yml, templates/*.tmpl and tests/routing.yml, by bundle path."""
    am, cases = alertmanager_config(config, notify_to), routing_cases(config)
    inhibitions = inhibition_cases(config)
    problems = validate.problems(am, cases) + am_inhibition.problems(am.inhibit_rules, inhibitions)
    if problems:
        raise RoutingError(problems)
    files = {CONFIG_FILE: render_alertmanager.alertmanager_file(am)}
    files |= {f"{TEMPLATES_DIR}/{name}": text for name, text in TEMPLATES.items()}
    files[ROUTING_TESTS_FILE] = render_alertmanager.routing_tests_file(cases)
    if inhibitions:
        files[INHIBITION_TESTS_FILE] = render_alertmanager.inhibition_tests_file(inhibitions)
    return files


def alertmanager_config(config: Config, notify_to: str = "") -> AlertmanagerConfig:
    """The whole Alertmanager config; with notify_to, every delivery is a webhook to
    notify_to/<config receiver name> and the routing stays as it is."""
    route, receivers = route_tree(config)
    route = with_maintenance(config, route)
    if notify_to:
        receivers = tuple(redirect(r, notify_to) for r in receivers)
    return AlertmanagerConfig(
        route=route,
        receivers=receivers,
        inhibit_rules=inhibit_rules(config, routing_cases(config)),
        time_intervals=_time_intervals(config) + maintenance_intervals(config, _time_spec),
        smtp=_smtp(config) if not notify_to else None,
        templates=TEMPLATE_GLOBS,
    )


def unreachable_routes(config: Config) -> list[str]:
    """The routes of the config no alert of it reaches, one line each."""
    return validate.unreachable(alertmanager_config(config), routing_cases(config))


def repeated_receivers(config: Config) -> list[str]:
    """Each alert and receiver it would be notified at through two routes or more, a line each."""
    return validate.repeated_receivers(alertmanager_config(config), routing_cases(config))


def routing_warnings(config: Config) -> list[str]:
    """Everything `generate` warns of and `check` fails on."""
    am, cases = alertmanager_config(config), routing_cases(config)
    return validate.unreachable(am, cases) + validate.repeated_receivers(am, cases)


def inhibit_rules(config: Config, cases: tuple[RoutingCase, ...]) -> tuple[InhibitRule, ...]:
    """A service outage mutes the per-endpoint alerts of that service and tenant; a whole-of
    alert mutes the alerts it covers in its tenant; an emergency mutes the less severe alerts
    of the same probe, service and tenant. `equal` keeps these inside one service or tenant (an
    absent label counts as equal to an absent one). They mute only level 0: when nobody acts
    on the alert that stands for them, the escalations still go out. Last, each declared
    dependency mutes what depends on it (alertmanager/inhibition.py), every level."""
    rules = []
    names = fired_definitions(config)
    per_target = [n for n in names if config.alerts[n].covers is None]
    definitions = sorted(c.alert_name(n) for n in per_target)
    if any(config.alerts[n].fires_on == "violation" for n in per_target):
        definitions.append(c.ALERT_CANNOT_VERIFY)
    level_0 = Matcher(c.LABEL_ESCALATION_LEVEL, "0")
    if outages(config) and definitions:
        rules.append(
            InhibitRule(
                source=(Matcher("alertname", c.ALERT_SERVICE_OUTAGE),),
                target=(Matcher("alertname", "|".join(sorted(definitions)), "=~"), level_0),
                equal=(c.LABEL_SERVICE, c.LABEL_TENANT),
            )
        )
    for name in names:
        covered = config.alerts[name].covers
        if covered is not None:
            rules.append(
                InhibitRule(
                    source=(Matcher("alertname", c.alert_name(name)),),
                    target=(Matcher("alertname", c.alert_name(covered)), level_0),
                    equal=(c.LABEL_TENANT,),
                )
            )
    emergency, *lower = c.SEVERITIES
    if any(case.labels.get(c.LABEL_SEVERITY) == emergency for case in cases):
        rules.append(
            InhibitRule(
                # A probe's own: a whole-of or outage alert has none, and would otherwise mute
                # every lesser alert without a probe in its tenant (burn rates, for one).
                source=(Matcher(c.LABEL_SEVERITY, emergency), Matcher(c.LABEL_PROBE, ".+", "=~")),
                target=(Matcher(c.LABEL_SEVERITY, "|".join(lower), "=~"),),
                equal=(c.LABEL_PROBE, c.LABEL_SERVICE, c.LABEL_TENANT),
            )
        )
    return (*rules, *inhibition.inhibit_rules(config))


def _time_intervals(config: Config) -> tuple[TimeInterval, ...]:
    if config.routing is None:
        return ()
    return tuple(
        TimeInterval(name, tuple(_time_spec(spec) for spec in specs))
        for name, specs in config.routing.time_intervals.items()
    )


def _time_spec(spec: ConfigTimeInterval) -> TimeSpec:
    return TimeSpec(
        times=tuple((t.start_time, t.end_time) for t in spec.times),
        weekdays=tuple(spec.weekdays),
        days_of_month=tuple(spec.days_of_month),
        months=tuple(spec.months),
        years=tuple(spec.years),
        location=spec.location or "",
    )


def _smtp(config: Config) -> Smtp | None:
    s = config.smtp
    if s is None:
        return None
    return Smtp(s.smarthost, s.from_, s.auth_username, s.auth_password_file or "", s.require_tls)
