"""The generated Alertmanager config: its routing tree, the validation that holds it, --notify-to.

The real amtool and Alertmanager run over it in test_alertmanager_tools.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from exporter.cli import main
from exporter.config import Config, load_config, parse_config
from exporter.generate.alertmanager import validate
from exporter.generate.alertmanager.files import (
    CONFIG_FILE,
    ROUTING_TESTS_FILE,
    RoutingError,
    alertmanager_config,
    alertmanager_files,
)
from exporter.generate.alertmanager.model import AlertmanagerConfig, Matcher, Route, Webhook
from exporter.generate.alertmanager.receivers import receiver_name
from exporter.generate.alertmanager.routing_cases import routing_cases
from tests.generate.test_bundle import CASES, REFERENCE

DOTMAC = REFERENCE.parent / "dotmac.yaml"
ZEBRA = "routing.contexts.zebra_opportunity"
ZEBRA_RECEIVERS = "email_matt_lindop+email_sales_team+slack_zebra_channel"
CRITICAL = "pagerduty_critical+slack_alerts"


@pytest.fixture(scope="module")
def reference() -> Config:
    return load_config(REFERENCE, offline=True)


def case(config: Config, name: str) -> tuple[str, ...]:
    return next(c.receivers for c in routing_cases(config) if c.name == name)


def test_the_zebra_alert_reaches_the_zebra_receivers_and_on_call(reference: Config) -> None:
    assert case(reference, "ZebraAdminFailure level 0") == (ZEBRA_RECEIVERS, CRITICAL)
    am = alertmanager_config(reference)
    labels = next(c.labels for c in routing_cases(reference) if c.name.startswith("Zebra"))
    assert validate.receivers_of(am, labels) == [ZEBRA_RECEIVERS, CRITICAL]


CRITICAL_ROUTE = """
    critical:
      receivers: [pagerduty_critical, slack_alerts]
      group_wait: 10s
      group_interval: 2m
      repeat_interval: 1h
"""


def test_a_context_route_adds_to_the_default_receiver_without_a_severity_route() -> None:
    text = REFERENCE.read_text()
    assert CRITICAL_ROUTE in text
    config = parse_config(text.replace(CRITICAL_ROUTE, "\n"), offline=True)
    assert case(config, "ZebraAdminFailure level 0") == (ZEBRA_RECEIVERS, "slack_alerts")
    am, cases = alertmanager_config(config), routing_cases(config)
    assert am.route.routes[-1] == Route("slack_alerts")  # the catch-all after the context route
    assert validate.problems(am, cases) == []


def test_an_escalation_level_goes_to_its_chain_entry_only(reference: Config) -> None:
    assert case(reference, "ZebraAdminFailure level 1 to product_manager") == (
        "email_product_manager",
    )
    assert case(reference, "CompleteApiFailure level 2 to cto") == (
        "email_executives+slack_management",
    )


def test_the_watchdog_goes_to_its_dead_mans_switch_and_nowhere_else(reference: Config) -> None:
    assert case(reference, "Watchdog") == ("deadmans_switch",)
    text = REFERENCE.read_text().replace("  watchdog: deadmans_switch\n", "")
    no_switch = parse_config(text, offline=True)
    assert case(no_switch, "Watchdog") == ("blackhole",)
    blackhole = next(r for r in alertmanager_config(no_switch).receivers if r.name == "blackhole")
    assert blackhole.parts == ()  # a null receiver: nobody hears the always-firing alert


def test_every_alert_of_the_config_has_a_routing_case(reference: Config) -> None:
    names = [c.name for c in routing_cases(reference)]
    assert len(names) == len(set(names)) == 44  # 3 of them the in-app alerts
    for expected in (
        "CompleteApiFailure level 3 to ceo",  # every escalation level
        "BusinessCannotVerify TenantIsolationBreach",  # a check that cannot run
        "BusinessServiceOutage admin/zebra_associates",  # every outage
        "BusinessProbeStale",  # self-monitoring
        "Watchdog",
    ):
        assert expected in names
    slo = [c for c in routing_cases(load_config(DOTMAC, offline=True)) if "BurnRate" in c.name]
    assert {c.name: c.receivers for c in slo} == {
        "BusinessTenantAvailabilityBurnRatePage": (
            "email_account_management",
            "email_platform+pagerduty_platform+slack_platform",  # a page goes to on-call
        ),
        "BusinessTenantAvailabilityBurnRateTicket": (
            "email_account_management",
            "email_platform+slack_platform",  # a ticket to Slack and email
        ),
        "BusinessTenantLatencyBurnRatePage": (
            "email_account_management",
            "email_platform+pagerduty_platform+slack_platform",
        ),
        "BusinessTenantLatencyBurnRateTicket": (
            "email_account_management",
            "email_platform+slack_platform",
        ),
    }


def test_a_set_of_receivers_becomes_one_receiver_named_by_its_sorted_names() -> None:
    assert receiver_name(["slack_emergency", "pagerduty_critical"]) == (
        "pagerduty_critical+slack_emergency"
    )
    am = alertmanager_config(load_config(DOTMAC, offline=True))
    names = [r.name for r in am.receivers]
    assert len(names) == len(set(names))
    # high and medium both list [slack_platform, email_platform]: one receiver serves both.
    both = [r for r in am.route.routes if r.receiver == "email_platform+slack_platform"]
    assert len(both) == 2
    (combined,) = (r for r in am.receivers if r.name == "email_platform+slack_platform")
    assert [p.name for p in combined.parts] == ["email_platform", "slack_platform"]


def test_notify_to_redirects_every_delivery_and_keeps_the_routing(reference: Config) -> None:
    plain = alertmanager_config(reference)
    staged = alertmanager_config(reference, "http://127.0.0.1:9999/hooks/")
    assert staged.route == plain.route
    assert [r.name for r in staged.receivers] == [r.name for r in plain.receivers]
    for receiver in staged.receivers:
        for part in receiver.parts:
            assert part.integration == Webhook(f"http://127.0.0.1:9999/hooks/{part.name}")
    text = alertmanager_files(reference, "http://127.0.0.1:9999/hooks")[CONFIG_FILE]
    for kind in ("slack_configs", "pagerduty_configs", "email_configs", "/etc/business-exporter"):
        assert kind not in text


def test_without_routing_everything_goes_to_a_default_receiver() -> None:
    config = load_config(CASES[0], offline=True)
    am = alertmanager_config(config)
    assert {c.receivers for c in routing_cases(config)} == {("default",), ("blackhole",)}
    assert [(r.name, r.parts) for r in am.receivers][1:] == [("blackhole", ())]
    staged = alertmanager_config(config, "http://127.0.0.1:9999")
    default = staged.receivers[0]
    assert [p.integration for p in default.parts] == [Webhook("http://127.0.0.1:9999/default")]


def test_the_routing_tests_file_lists_every_case_with_its_receivers(reference: Config) -> None:
    cases = yaml.safe_load(alertmanager_files(reference)[ROUTING_TESTS_FILE])
    zebra = next(c for c in cases if c["name"] == "ZebraAdminFailure level 0")
    assert zebra["labels"]["alertname"] == "ZebraAdminFailure"
    assert zebra["labels"]["escalation_level"] == "0"
    assert zebra["receivers"] == [ZEBRA_RECEIVERS, CRITICAL]
    assert len(cases) == len(routing_cases(reference))


def test_inhibition_stays_inside_one_service_and_tenant(reference: Config) -> None:
    outage, whole, emergency, *dependencies = alertmanager_config(reference).inhibit_rules
    assert [str(m) for m in outage.source] == ['alertname="BusinessServiceOutage"']
    assert "ZebraAdminFailure" in outage.target[0].value
    assert "BusinessCannotVerify" in outage.target[0].value
    assert str(outage.target[1]) == 'escalation_level="0"'  # escalations go on in an outage
    assert outage.equal == ("service", "tenant")
    assert [str(m) for m in whole.source] == ['alertname="CompleteApiFailure"']
    assert [str(m) for m in whole.target] == [
        'alertname="CriticalEndpointFailure"',
        'escalation_level="0"',
    ]
    assert whole.equal == ("tenant",)
    # A probe's own emergency: CompleteApiFailure, which has no probe, mutes no burn rate.
    assert [str(m) for m in emergency.source] == ['severity="emergency"', 'probe=~".+"']
    assert emergency.target[0].value == "critical|high|medium|low|info"
    assert emergency.equal == ("probe", "service", "tenant")
    assert dependencies  # alertmanager/inhibition.py's, tested in test_dependencies.py


def test_a_check_that_cannot_run_reaches_on_call_only_a_breach_security_too(
    reference: Config,
) -> None:
    on_call = "email_immediate+pagerduty_critical+slack_emergency"
    security = "email_legal+email_security_team+pagerduty_security+slack_security"
    assert case(reference, "BusinessCannotVerify TenantIsolationBreach") == (on_call,)
    assert case(reference, "TenantIsolationBreach level 0") == (on_call, security)
    text = REFERENCE.read_text().replace(
        "unverified_context: operational", "unverified_context: security"
    )
    told = parse_config(text, offline=True)
    assert case(told, "BusinessCannotVerify TenantIsolationBreach") == (on_call, security)


def _routes(am: AlertmanagerConfig, change: Callable[[list[Route]], None]) -> AlertmanagerConfig:
    routes = list(am.route.routes)
    change(routes)
    return dataclasses.replace(am, route=dataclasses.replace(am.route, routes=tuple(routes)))


def _at(routes: list[Route], origin: str) -> int:
    return next(i for i, r in enumerate(routes) if r.origin == origin)


def _move_after_severities(origin: str) -> Callable[[list[Route]], None]:
    def change(routes: list[Route]) -> None:
        routes.insert(len(routes) - 1, routes.pop(_at(routes, origin)))

    return change


def _drop(origin: str) -> Callable[[list[Route]], None]:
    return lambda routes: routes.__delitem__(_at(routes, origin))


def _set(origin: str, **fields: object) -> Callable[[list[Route]], None]:
    def change(routes: list[Route]) -> None:
        i = _at(routes, origin)
        routes[i] = dataclasses.replace(routes[i], **fields)  # type: ignore[arg-type]

    return change


def _root(**fields: object) -> Callable[[AlertmanagerConfig], AlertmanagerConfig]:
    return lambda am: dataclasses.replace(am, route=dataclasses.replace(am.route, **fields))  # type: ignore[arg-type]


MISTAKES: dict[str, tuple[Callable[[AlertmanagerConfig], AlertmanagerConfig], str]] = {
    "a context route without continue keeps on-call from hearing of Zebra alerts": (
        lambda am: _routes(am, _set(ZEBRA, continue_=False)),
        f"routing case 'ZebraAdminFailure level 0': reaches {ZEBRA_RECEIVERS}, the routing "
        f"policy says {ZEBRA_RECEIVERS}, {CRITICAL}",
    ),
    "a context route after the severity routes is never reached": (
        lambda am: _routes(am, _move_after_severities(ZEBRA)),
        f"routing case 'ZebraAdminFailure level 0': reaches {CRITICAL}, the routing policy",
    ),
    "an escalation route after the severity routes lets on-call take the escalation": (
        lambda am: _routes(am, _move_after_severities("routing.escalation.product_manager")),
        "routing case 'ZebraAdminFailure level 1 to product_manager': reaches "
        f"{ZEBRA_RECEIVERS}, {CRITICAL}, the routing policy says email_product_manager",
    ),
    "without its route the Watchdog goes to the default receiver": (
        lambda am: _routes(am, _drop("routing.watchdog")),
        "routing case 'Watchdog': reaches slack_alerts, the routing policy says deadmans_switch",
    ),
    "a route to an undefined receiver": (
        lambda am: _routes(am, _set("routing.severities.high", receiver="email_alerts")),
        "routing.severities.high: receiver 'email_alerts' is not defined",
    ),
    "a route to an undefined time interval": (
        lambda am: _routes(am, _set("routing.severities.high", mute_time_intervals=("x",))),
        "routing.severities.high: time interval 'x' is not defined",
    ),
    "a receiver defined twice": (
        lambda am: dataclasses.replace(am, receivers=(*am.receivers, am.receivers[0])),
        "receivers: 'slack_alerts' is defined more than once",
    ),
    "a root route without a receiver": (
        _root(receiver=""),
        "route: the root route needs a receiver",
    ),
    "a root route with matchers": (
        _root(matchers=(Matcher("severity", "critical"),)),
        "route: the root route must not have matchers: it takes every alert",
    ),
}


def test_the_reference_tree_has_no_problem_and_no_unreachable_route(reference: Config) -> None:
    am, cases = alertmanager_config(reference), routing_cases(reference)
    assert validate.problems(am, cases) == []
    assert validate.unreachable(am, cases) == []
    assert validate.repeated_receivers(am, cases) == []


@pytest.mark.parametrize("mistake", MISTAKES, ids=list(MISTAKES))
def test_validation_catches_each_routing_mistake(reference: Config, mistake: str) -> None:
    change, expected = MISTAKES[mistake]
    found = validate.problems(change(alertmanager_config(reference)), routing_cases(reference))
    assert any(expected in line for line in found), found


def test_a_route_behind_a_sibling_without_continue_is_unreachable(reference: Config) -> None:
    moved = _routes(alertmanager_config(reference), _move_after_severities(ZEBRA))
    assert validate.unreachable(moved, routing_cases(reference)) == [
        f"{ZEBRA}: no alert of this config reaches the route "
        f'{{context="zebra_opportunity"}} (receiver {ZEBRA_RECEIVERS})'
    ]


def test_generate_refuses_a_tree_that_breaks_the_policy(
    reference: Config,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from exporter.generate.alertmanager import files as alertmanager
    from exporter.generate.alertmanager import routes as am_routes

    def without_continue(config: Config) -> tuple[Route, tuple[object, ...]]:
        route, receivers = real(config)
        routes = [dataclasses.replace(r, continue_=False) for r in route.routes]
        return dataclasses.replace(route, routes=tuple(routes)), receivers

    real = am_routes.route_tree
    monkeypatch.setattr(alertmanager, "route_tree", without_continue)
    with pytest.raises(RoutingError, match="ZebraAdminFailure level 0"):
        alertmanager_files(reference)
    out = tmp_path / "out"
    assert main(["generate", "--config", str(REFERENCE), "--out", str(out)]) == 1
    assert "the Alertmanager routing tree is wrong" in capsys.readouterr().err
    assert not out.exists()
