"""What prometheus-operator makes of the AlertmanagerConfig when an Alertmanager takes it as
its whole configuration: the alertmanager.yml its pods run, for amtool to check and route.

As the operator does (pkg/alertmanager/amcfg.go), receiver and time interval names become
`<namespace>/<name>/<name in the spec>`; no namespace matcher is added in this mode. Secret
selectors stand for the values the operator reads from the Secret: here they become `*_file`
paths where the Alertmanager resource's `spec.secrets` would mount that Secret, which amtool
does not open.
"""

from __future__ import annotations

from typing import Any

from exporter.generate.alertmanager.model import Matcher
from exporter.generate.kubernetes.amc import INTEGRATIONS, ROUTE_FIELDS, TIME_FIELDS

SECRETS_DIR = "/etc/alertmanager/secrets"
_CAMEL_TO_PLAIN = {crd: plain for plain, crd in ROUTE_FIELDS.items()}


def operator_config(
    spec: dict[str, Any], namespace: str, name: str, templates: list[str]
) -> dict[str, Any]:
    """The Alertmanager config of an AlertmanagerConfig spec, as the operator renders it."""
    view = _View(f"{namespace}/{name}/")
    out: dict[str, Any] = {"templates": list(templates), "route": view.route(spec["route"])}
    if rules := spec.get("inhibitRules"):
        out["inhibit_rules"] = [view.inhibit(rule) for rule in rules]
    out["receivers"] = [view.receiver(r) for r in spec.get("receivers", [])]
    if intervals := spec.get("muteTimeIntervals"):
        out["mute_time_intervals"] = [view.time_interval(t) for t in intervals]
    return out


def prefixed(namespace: str, name: str, receiver: str) -> str:
    """A receiver's name in the operator's config."""
    return f"{namespace}/{name}/{receiver}"


def matcher_text(matcher: dict[str, str]) -> str:
    return str(Matcher(matcher["name"], matcher.get("value", ""), matcher.get("matchType", "=")))


class _View:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def route(self, spec: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in spec.items():
            plain = _CAMEL_TO_PLAIN[key]
            if key == "receiver":
                value = self.prefix + value
            elif key == "matchers":
                value = [matcher_text(m) for m in value]
            elif key in ("muteTimeIntervals", "activeTimeIntervals"):
                value = [self.prefix + v for v in value]
            elif key == "routes":
                value = [self.route(child) for child in value]
            out[plain] = value
        return out

    def inhibit(self, spec: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, plain in (("sourceMatch", "source_matchers"), ("targetMatch", "target_matchers")):
            if key in spec:
                out[plain] = [matcher_text(m) for m in spec[key]]
        if "equal" in spec:
            out["equal"] = list(spec["equal"])
        return out

    def receiver(self, spec: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.prefix + spec["name"]}
        for plain_key, (crd_key, fields) in INTEGRATIONS.items():
            if crd_key in spec:
                reverse = {(v[1] if isinstance(v, tuple) else v): k for k, v in fields.items()}
                out[plain_key] = [_integration(c, reverse) for c in spec[crd_key]]
        return out

    def time_interval(self, spec: dict[str, Any]) -> dict[str, Any]:
        reverse = {crd: plain for plain, crd in TIME_FIELDS.items()}
        specs = []
        for interval in spec.get("timeIntervals", []):
            out = {reverse[k]: v for k, v in interval.items()}
            if "times" in out:
                out["times"] = [
                    {"start_time": t["startTime"], "end_time": t["endTime"]} for t in out["times"]
                ]
            if "days_of_month" in out:
                out["days_of_month"] = [_day_range(d) for d in out["days_of_month"]]
            specs.append(out)
        return {"name": self.prefix + spec["name"], "time_intervals": specs}


def _integration(spec: dict[str, Any], reverse: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in spec.items():
        plain = reverse[key]
        if plain.endswith("_file"):
            value = _file(value)
        elif key in ("details", "headers"):
            value = {item["key"]: item["value"] for item in value}
        elif key == "httpConfig":
            value = _http_config(value)
        out[plain] = value
    return out


def _http_config(spec: dict[str, Any]) -> dict[str, Any]:
    auth = spec.get("authorization")
    if auth is None:
        return {}
    out: dict[str, Any] = {"type": auth["type"]} if "type" in auth else {}
    if "credentials" in auth:
        out["credentials_file"] = _file(auth["credentials"])
    return {"authorization": out}


def _file(selector: dict[str, str]) -> str:
    return f"{SECRETS_DIR}/{selector['name']}/{selector['key']}"


def _day_range(value: dict[str, int]) -> str:
    start, end = value["start"], value["end"]
    return str(start) if start == end else f"{start}:{end}"
