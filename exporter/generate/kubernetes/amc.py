"""The bundle's alertmanager.yml as the spec of an AlertmanagerConfig (monitoring.coreos.com/
v1alpha1), for an Alertmanager that takes it as its whole configuration
(`spec.alertmanagerConfiguration.name`).

The translation reads the rendered alertmanager.yml, so it follows whatever the Alertmanager
generator writes; a field it has no CRD counterpart for is refused with its path, never
dropped. What the CRD cannot hold:
- `templates`: the Alertmanager resource lists them (`alertmanagerConfiguration.templates`);
- `global`: the SMTP settings move into every email receiver, which the CRD lets hold them;
- a time interval's `location`: the CRD has no time zone (refused: times would read as UTC);
- `*_file` secrets: they become keys of a Secret (`{name, key}` selectors), named as the file.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Any

from exporter.generate.kubernetes.meta import KubernetesError

_MATCHER = re.compile(r'^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")\s*$')
_SECRET = "secret"  # marks a field whose value is a file path that becomes a Secret key
# Plain field -> CRD field, per integration; _SECRET fields keep their CRD name in the tuple.
_SLACK: dict[str, str | tuple[str, str]] = {
    "send_resolved": "sendResolved", "api_url_file": (_SECRET, "apiURL"), "channel": "channel",
    "username": "username", "icon_emoji": "iconEmoji", "icon_url": "iconURL", "color": "color",
    "title": "title", "title_link": "titleLink", "pretext": "pretext", "text": "text",
    "footer": "footer", "fallback": "fallback", "short_fields": "shortFields",
    "link_names": "linkNames", "image_url": "imageURL", "thumb_url": "thumbURL",
    "callback_id": "callbackId", "mrkdwn_in": "mrkdwnIn",
}  # fmt: skip
_PAGERDUTY: dict[str, str | tuple[str, str]] = {
    "send_resolved": "sendResolved", "routing_key_file": (_SECRET, "routingKey"),
    "service_key_file": (_SECRET, "serviceKey"), "url": "url", "client": "client",
    "client_url": "clientURL", "description": "description", "severity": "severity",
    "class": "class", "component": "component", "group": "group", "source": "source",
    "details": "details",
}  # fmt: skip
_EMAIL: dict[str, str | tuple[str, str]] = {
    "send_resolved": "sendResolved", "to": "to", "from": "from", "smarthost": "smarthost",
    "hello": "hello", "auth_username": "authUsername", "auth_identity": "authIdentity",
    "auth_password_file": (_SECRET, "authPassword"), "headers": "headers", "html": "html",
    "text": "text", "require_tls": "requireTLS",
}  # fmt: skip
_WEBHOOK: dict[str, str | tuple[str, str]] = {
    "send_resolved": "sendResolved", "url": "url", "max_alerts": "maxAlerts",
    "http_config": "httpConfig",
}  # fmt: skip
Fields = dict[str, str | tuple[str, str]]
INTEGRATIONS: dict[str, tuple[str, Fields]] = {
    "slack_configs": ("slackConfigs", _SLACK),
    "pagerduty_configs": ("pagerdutyConfigs", _PAGERDUTY),
    "email_configs": ("emailConfigs", _EMAIL),
    "webhook_configs": ("webhookConfigs", _WEBHOOK),
}
# Global SMTP settings: the email receiver field each one is the default of.
SMTP_DEFAULTS = {
    "smtp_smarthost": "smarthost", "smtp_from": "from", "smtp_hello": "hello",
    "smtp_auth_username": "auth_username", "smtp_auth_password_file": "auth_password_file",
    "smtp_auth_identity": "auth_identity", "smtp_require_tls": "require_tls",
}  # fmt: skip
ROUTE_FIELDS = {
    "receiver": "receiver", "matchers": "matchers", "group_by": "groupBy",
    "continue": "continue", "group_wait": "groupWait", "group_interval": "groupInterval",
    "repeat_interval": "repeatInterval", "mute_time_intervals": "muteTimeIntervals",
    "active_time_intervals": "activeTimeIntervals", "routes": "routes",
}  # fmt: skip
TIME_FIELDS = {
    "times": "times", "weekdays": "weekdays", "days_of_month": "daysOfMonth", "months": "months",
    "years": "years",
}  # fmt: skip
_TOP = {
    "global", "templates", "route", "inhibit_rules", "receivers", "time_intervals",
    "mute_time_intervals",
}  # fmt: skip


def amc_spec(plain: dict[str, Any], secret: str) -> dict[str, Any]:
    """The AlertmanagerConfig spec saying what `plain` says; KubernetesError listing every
    field the CRD cannot hold. `secret` is the Secret whose keys stand for the *_file paths."""
    problems = [f"{key}: no AlertmanagerConfig field" for key in plain if key not in _TOP]
    convert = _Converter(secret, problems, _smtp_defaults(plain.get("global", {}), problems))
    spec: dict[str, Any] = {"route": convert.route(plain["route"], "route")}
    spec["receivers"] = [convert.receiver(r) for r in plain.get("receivers", [])]
    if inhibit := plain.get("inhibit_rules"):
        spec["inhibitRules"] = [convert.inhibit(rule, i) for i, rule in enumerate(inhibit)]
    intervals = plain.get("time_intervals", []) + plain.get("mute_time_intervals", [])
    if intervals:
        spec["muteTimeIntervals"] = [convert.time_interval(t) for t in intervals]
    if problems:
        raise KubernetesError("; ".join(problems))
    return spec


def secret_files(plain: dict[str, Any]) -> list[str]:
    """Every *_file path of an Alertmanager config, in order of appearance."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.endswith("_file") and isinstance(value, str):
                    found.append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(plain)
    return list(dict.fromkeys(found))


def secret_key(path: str) -> str:
    return PurePosixPath(path).name


def parse_matcher(text: str) -> dict[str, str]:
    """'severity=~"high|low"' -> {name, value, matchType}; ValueError if it is not one."""
    match = _MATCHER.match(text)
    if match is None:
        raise ValueError(f"not a matcher: {text!r}")
    name, op, quoted = match.groups()
    return {"name": name, "value": json.loads(quoted), "matchType": op}


def _smtp_defaults(plain_global: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    for key in plain_global:
        if key not in SMTP_DEFAULTS:
            problems.append(f"global.{key}: no AlertmanagerConfig field")
    return {SMTP_DEFAULTS[k]: v for k, v in plain_global.items() if k in SMTP_DEFAULTS}


class _Converter:
    def __init__(self, secret: str, problems: list[str], smtp: dict[str, Any]) -> None:
        self.secret, self.problems, self.smtp = secret, problems, smtp
        self.keys: dict[str, str] = {}  # Secret key -> the path it stands for

    def route(self, plain: dict[str, Any], at: str) -> dict[str, Any]:
        out = self._fields(plain, ROUTE_FIELDS, at)
        if "matchers" in out:
            out["matchers"] = self._matchers(plain["matchers"], f"{at}.matchers")
        if "routes" in out:
            out["routes"] = [
                self.route(r, f"{at}.routes[{i}]") for i, r in enumerate(plain["routes"])
            ]
        return out

    def inhibit(self, plain: dict[str, Any], index: int) -> dict[str, Any]:
        at = f"inhibit_rules[{index}]"
        fields = {
            "source_matchers": "sourceMatch",
            "target_matchers": "targetMatch",
            "equal": "equal",
        }
        out = self._fields(plain, fields, at)
        for key in ("sourceMatch", "targetMatch"):
            if key in out:
                out[key] = self._matchers(out[key], f"{at}.{key}")
        return out

    def receiver(self, plain: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"name": plain["name"]}
        for key, configs in plain.items():
            if key == "name":
                continue
            if key not in INTEGRATIONS:
                self.problems.append(
                    f"receivers[{plain['name']}].{key}: no AlertmanagerConfig field"
                )
                continue
            crd_key, fields = INTEGRATIONS[key]
            at = f"receivers[{plain['name']}].{key}"
            defaults = self.smtp if key == "email_configs" else {}
            out[crd_key] = [self._integration({**defaults, **c}, fields, at) for c in configs]
        return out

    def time_interval(self, plain: dict[str, Any]) -> dict[str, Any]:
        at = f"time_intervals[{plain['name']}]"
        return {
            "name": plain["name"],
            "timeIntervals": [self._time_spec(s, at) for s in plain.get("time_intervals", [])],
        }

    def _time_spec(self, plain: dict[str, Any], at: str) -> dict[str, Any]:
        if "location" in plain:
            self.problems.append(
                f"{at}.location: the AlertmanagerConfig CRD has no time zone "
                f"({plain['location']}): its times would be read as UTC"
            )
        out = self._fields({k: v for k, v in plain.items() if k != "location"}, TIME_FIELDS, at)
        if "times" in out:
            out["times"] = [
                {"startTime": t["start_time"], "endTime": t["end_time"]} for t in out["times"]
            ]
        if "daysOfMonth" in out:
            out["daysOfMonth"] = [_day_range(str(d)) for d in out["daysOfMonth"]]
        return out

    def _integration(
        self, plain: dict[str, Any], fields: dict[str, Any], at: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in plain.items():
            target = fields.get(key)
            if target is None:
                self.problems.append(f"{at}.{key}: no AlertmanagerConfig field")
            elif isinstance(target, tuple):
                out[target[1]] = self._secret(value, f"{at}.{key}")
            elif key in ("details", "headers"):
                out[target] = [{"key": k, "value": str(v)} for k, v in sorted(value.items())]
            elif key == "http_config":
                out[target] = self._http_config(value, f"{at}.{key}")
            else:
                out[target] = value
        return out

    def _http_config(self, plain: dict[str, Any], at: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in plain.items():
            if key != "authorization" or set(value) - {"type", "credentials_file"}:
                self.problems.append(f"{at}.{key}: not translated to the AlertmanagerConfig CRD")
                continue
            auth: dict[str, Any] = {"type": value["type"]} if "type" in value else {}
            if "credentials_file" in value:
                auth["credentials"] = self._secret(value["credentials_file"], f"{at}.authorization")
            out["authorization"] = auth
        return out

    def _secret(self, path: str, at: str) -> dict[str, str]:
        key = secret_key(path)
        if self.keys.setdefault(key, path) != path:
            self.problems.append(
                f"{at}: {path} and {self.keys[key]} would share the Secret key {key!r}"
            )
        return {"name": self.secret, "key": key}

    def _matchers(self, texts: list[str], at: str) -> list[dict[str, str]]:
        out = []
        for text in texts:
            try:
                out.append(parse_matcher(text))
            except ValueError as err:
                self.problems.append(f"{at}: {err}")
        return out

    def _fields(self, plain: dict[str, Any], fields: dict[str, str], at: str) -> dict[str, Any]:
        for key in plain:
            if key not in fields:
                self.problems.append(f"{at}.{key}: no AlertmanagerConfig field")
        return {fields[k]: v for k, v in plain.items() if k in fields}


def _day_range(text: str) -> dict[str, int]:
    start, _, end = text.partition(":")
    return {"start": int(start), "end": int(end or start)}
