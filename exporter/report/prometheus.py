"""The Prometheus HTTP API, as the report reads it: instant and range queries, nothing else."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any

TIMEOUT = 120.0  # seconds: a month of increase() over thousands of series takes a while


class PrometheusError(Exception):
    """Prometheus could not be reached, or refused a query."""


@dataclass(frozen=True, slots=True)
class Sample:
    labels: dict[str, str]
    value: float


@dataclass(frozen=True, slots=True)
class Series:
    labels: dict[str, str]
    points: list[tuple[float, float]]  # (unix time, value)


class Prometheus:
    """A Prometheus server's query API at `url` (http://host:port, maybe a path prefix)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.queries = 0

    def instant(self, query: str, at: datetime) -> list[Sample]:
        data = self._get("query", {"query": query, "time": f"{at.timestamp():.3f}"})
        return [Sample(r["metric"], float(r["value"][1])) for r in data["result"]]

    def range(self, query: str, start: datetime, end: datetime, step: float) -> list[Series]:
        params = {
            "query": query,
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": f"{step:g}",
        }
        data = self._get("query_range", params)
        return [
            Series(r["metric"], [(float(t), float(v)) for t, v in r["values"]])
            for r in data["result"]
        ]

    def _get(self, endpoint: str, params: dict[str, str]) -> Any:
        self.queries += 1
        url = f"{self.url}/api/v1/{endpoint}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                body = json.load(response)
        except urllib.error.HTTPError as err:
            raise PrometheusError(_refusal(err, params["query"])) from None
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = getattr(err, "reason", err)
            raise PrometheusError(
                f"cannot reach Prometheus at {_safe(self.url)}: {reason}"
            ) from None
        if body.get("status") != "success":
            raise PrometheusError(f"Prometheus refused {params['query']!r}: {body.get('error')}")
        return body["data"]


def _refusal(err: urllib.error.HTTPError, query: str) -> str:
    try:
        detail = json.load(err).get("error", "")
    except ValueError:
        detail = ""
    return f"Prometheus answered {err.code} to {query!r}: {detail or err.reason}"


def _safe(url: str) -> str:
    """The URL without credentials, for messages."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
