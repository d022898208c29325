"""The routing tree, from the config's routing policy. Under the root, in this order:

1. the Watchdog, to its dead man's switch or to the blackhole receiver: it always fires and must
   reach nothing else;
2. escalation: an alert at escalation_level 1 or above goes to the receivers of its
   `escalate_to` chain entry, and only there (its level 0 already told on-call);
3. contexts, each with `continue: true`, so that the Zebra receivers hear of Zebra alerts in
   addition to on-call, never instead;
4. severities, most urgent first, each with its timings: on-call;
5. when there are context routes, a last catch-all to the root's receiver: an alert a context
   route took would otherwise skip the root's receiver when no severity route matches it.

The policy that this order implements is `expected_receivers`; the generated routing tests and
`validate` hold the tree to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from exporter import conventions as c
from exporter.config import Config, format_duration
from exporter.config.alerting import RouteSpec, Routing
from exporter.generate.alertmanager.model import Matcher, Receiver, Route
from exporter.generate.alertmanager.receivers import blackhole, receiver, receiver_name

# The Watchdog pings a dead man's switch every minute; silence for longer means a broken pipeline.
WATCHDOG_WAIT, WATCHDOG_INTERVAL = "0s", "1m"
ESCALATED = Matcher(c.LABEL_ESCALATION_LEVEL, "[1-9][0-9]*", "=~")
WATCHDOG = Matcher("alertname", c.ALERT_WATCHDOG)


def policy(config: Config) -> Routing:
    """The config's routing, or for a config without one: everything to a receiver that
    delivers nowhere (named `default`; `generate --notify-to` gives it a webhook)."""
    return config.routing or Routing(receiver=c.RECEIVER_DEFAULT)


def route_tree(config: Config) -> tuple[Route, tuple[Receiver, ...]]:
    """The root route and every receiver it names, in order of first use."""
    routing = policy(config)
    used: dict[str, Receiver] = {}

    def to(names: Sequence[str]) -> str:
        made = receiver(config, names)
        used.setdefault(made.name, made)
        return made.name

    root = to([routing.receiver])
    watchdog = to([routing.watchdog]) if routing.watchdog else _blackhole(used)
    routes = [
        Route(
            watchdog,
            (WATCHDOG,),
            group_wait=WATCHDOG_WAIT,
            group_interval=WATCHDOG_INTERVAL,
            repeat_interval=WATCHDOG_INTERVAL,
            origin="routing.watchdog",
        )
    ]
    for entry, names in routing.escalation.items():
        escalate_to = Matcher(c.LABEL_ESCALATE_TO, entry)
        routes.append(Route(to(names), (ESCALATED, escalate_to), origin=_at("escalation", entry)))
    for context, spec in routing.contexts.items():
        here = _at("contexts", context)
        matcher = Matcher(c.LABEL_CONTEXT, context)
        routes.append(_route(to(spec.receivers), matcher, spec, here, continue_=True))
    for severity in c.SEVERITIES:
        if (by_severity := routing.severities.get(severity)) is not None:
            matcher = Matcher(c.LABEL_SEVERITY, severity)
            here = _at("severities", severity)
            routes.append(_route(to(by_severity.receivers), matcher, by_severity, here))
    if routing.contexts:
        routes.append(Route(root))  # no origin: the root's own default, never "unreachable"
    tree = Route(
        root,
        group_by=c.ALERTMANAGER_GROUP_BY,
        group_wait=format_duration(routing.group_wait),
        group_interval=format_duration(routing.group_interval),
        repeat_interval=format_duration(routing.repeat_interval),
        routes=tuple(routes),
    )
    return tree, tuple(used.values())


def expected_receivers(config: Config, labels: Mapping[str, str]) -> tuple[str, ...]:
    """The policy, stated without the tree: who must hear of an alert with these labels."""
    routing = policy(config)
    if labels.get("alertname") == c.ALERT_WATCHDOG:
        return (receiver_name([routing.watchdog]) if routing.watchdog else c.RECEIVER_BLACKHOLE,)
    escalate_to = labels.get(c.LABEL_ESCALATE_TO, "")
    if ESCALATED.matches(labels) and escalate_to in routing.escalation:
        return (receiver_name(routing.escalation[escalate_to]),)
    found = []
    if (context := routing.contexts.get(labels.get(c.LABEL_CONTEXT, ""))) is not None:
        found.append(receiver_name(context.receivers))
    severity = labels.get(c.LABEL_SEVERITY, "")
    spec = next((s for name, s in routing.severities.items() if name == severity), None)
    found.append(receiver_name(spec.receivers if spec else [routing.receiver]))
    return tuple(sorted(set(found)))


def _blackhole(used: dict[str, Receiver]) -> str:
    made = blackhole()
    used.setdefault(made.name, made)
    return made.name


def _at(section: str, key: str) -> str:
    return f"routing.{section}.{key}"


def _route(
    name: str, matcher: Matcher, spec: RouteSpec, origin: str, *, continue_: bool = False
) -> Route:
    def duration(value: float | None) -> str:
        return "" if value is None else format_duration(value)

    return Route(
        name,
        (matcher,),
        continue_=continue_,
        group_wait=duration(spec.group_wait),
        group_interval=duration(spec.group_interval),
        repeat_interval=duration(spec.repeat_interval),
        mute_time_intervals=tuple(spec.mute_time_intervals),
        active_time_intervals=tuple(spec.active_time_intervals),
        origin=origin,
    )
