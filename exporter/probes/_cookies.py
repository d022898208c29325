"""The cookies of one run of a flow, kept per host as a browser keeps them for one visit.

Deliberately small: name=value per host (any port), removed by `Max-Age<=0` or an `Expires`
in the past. Domain, Path and Secure are not looked at: a flow talks to hosts it names.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from exporter.probes._http_client import Header, Request, Response


class CookieJar:
    """Sends back what earlier responses set; a `Session` for `_fetch.follow`."""

    def __init__(self) -> None:
        self._hosts: dict[str, dict[str, str]] = {}

    def prepare(self, request: Request) -> Request:
        """`request` with a Cookie header holding this host's cookies (and no other)."""
        headers = tuple(h for h in request.headers if h.name.lower() != "cookie")
        cookies = self._hosts.get(request.host)
        if cookies:
            value = "; ".join(f"{name}={value}" for name, value in cookies.items())
            headers += (Header("Cookie", value, True),)
        if headers == request.headers:
            return request
        return dataclasses.replace(request, headers=headers)

    def store(self, request: Request, response: Response) -> None:
        """Keep what the response's Set-Cookie headers say."""
        for name, value in response.headers:
            if name.lower() == b"set-cookie":
                self._set(request.host, value.decode("latin-1"))

    def _set(self, host: str, header: str) -> None:
        pair, *attributes = header.split(";")
        name, equals, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name:
            return
        cookies = self._hosts.setdefault(host, {})
        if _expired(attributes):
            cookies.pop(name, None)
        else:
            cookies[name] = value


def _expired(attributes: list[str]) -> bool:
    """Whether the attributes delete the cookie; Max-Age wins over Expires, as RFC 6265 says."""
    found = dict(_attribute(text) for text in attributes)
    if "max-age" in found:
        try:
            return int(found["max-age"]) <= 0
        except ValueError:
            return False
    if "expires" in found:
        try:
            when = parsedate_to_datetime(found["expires"])
        except (TypeError, ValueError):
            return False
        return (when if when.tzinfo else when.replace(tzinfo=UTC)) <= datetime.now(UTC)
    return False


def _attribute(text: str) -> tuple[str, str]:
    key, _, value = text.partition("=")
    return key.strip().lower(), value.strip()
