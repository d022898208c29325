"""Alert and escalation state from Alertmanager's API (`GET /api/v2/alerts`), for the pages.

Fetched when a page asks and the last answer is older than FRESH_FOR, under a short timeout,
and kept: a page waits for a fetch at most PAGE_WAIT, then renders what it has, so a slow or
dead Alertmanager never holds the page up. The answer is read up to MAX_BYTES and only the
labels the pages show are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from exporter import conventions as c

if TYPE_CHECKING:  # imported when first used: 3 MB an exporter without Alertmanager never pays
    import httpx

FRESH_FOR = 10.0  # seconds an answer is used before the next page asks again
TIMEOUT = 5.0  # for one fetch, connection to last byte
PAGE_WAIT = 0.3  # the longest a page waits for a fetch it started
MAX_BYTES = 8 * 1024 * 1024  # some 10,000 alerts
_KEPT_LABELS = (
    "alertname",
    c.LABEL_PROBE,
    c.LABEL_TENANT,
    c.LABEL_SERVICE,
    c.LABEL_SEVERITY,
    c.LABEL_ESCALATION_LEVEL,
    c.LABEL_ESCALATE_TO,
)


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert as Alertmanager holds it: active, or suppressed by an inhibition or silence."""

    labels: dict[str, str]
    state: str  # active, suppressed, unprocessed
    inhibited: bool
    silenced: bool
    starts_at: str
    receivers: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")

    @property
    def escalation_level(self) -> int:
        level = self.labels.get(c.LABEL_ESCALATION_LEVEL, "")
        return int(level) if level.isdigit() else 0


@dataclass(frozen=True, slots=True)
class AlertState:
    """What the pages know of Alertmanager: its alerts as last fetched, and how that went."""

    url: str  # without credentials: it is shown
    configured: bool
    alerts: tuple[Alert, ...] = ()
    fetched_at: float | None = None  # of the alerts held
    error: str = ""  # of the last fetch; "" when it succeeded
    checked_at: float | None = None

    @property
    def status(self) -> str:
        """not_configured, waiting (no answer yet), unreachable, or ok."""
        if not self.configured:
            return "not_configured"
        if self.error:
            return "unreachable"
        return "ok" if self.fetched_at is not None else "waiting"


NOT_CONFIGURED = AlertState("", configured=False)


@dataclass
class AlertmanagerClient:
    """Fetches and keeps Alertmanager's alerts; one per exporter."""

    url: str
    fresh_for: float = FRESH_FOR
    timeout: float = TIMEOUT
    page_wait: float = PAGE_WAIT
    _state: AlertState = field(init=False)
    _fetch: asyncio.Task[None] | None = field(default=None, init=False)
    _client: httpx.AsyncClient | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._state = AlertState(shown_url(self.url), configured=True)

    async def state(self) -> AlertState:
        """The alerts, refreshed first when stale, but never waiting longer than page_wait."""
        checked = self._state.checked_at
        if self._fetch is None and (checked is None or time.time() - checked >= self.fresh_for):
            self._fetch = asyncio.create_task(self._refresh())
        if self._fetch is not None:
            await asyncio.wait([self._fetch], timeout=self.page_wait)
        return self._state

    async def close(self) -> None:
        if self._fetch is not None:
            self._fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._fetch
        if self._client is not None:
            await self._client.aclose()

    async def _refresh(self) -> None:
        import httpx

        try:
            alerts = await self._get()
        except (httpx.HTTPError, ValueError, OSError) as err:
            self._state = _replace(self._state, error=_why(err), checked_at=time.time())
        else:
            now = time.time()
            self._state = _replace(
                self._state, alerts=alerts, fetched_at=now, error="", checked_at=now
            )
        finally:
            self._fetch = None

    async def _get(self) -> tuple[Alert, ...]:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        url = self.url.rstrip("/") + "/api/v2/alerts"
        async with asyncio.timeout(self.timeout):
            async with self._client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ValueError(f"HTTP {response.status_code} from /api/v2/alerts")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BYTES:
                        raise ValueError(f"the answer exceeds {MAX_BYTES // 2**20} MiB")
        return parse_alerts(json.loads(body))


def parse_alerts(data: Any) -> tuple[Alert, ...]:
    """Alertmanager's v2 alert list, less the Watchdog; ValueError on another shape."""
    if not isinstance(data, list):
        raise ValueError("/api/v2/alerts did not answer a list")
    out = []
    for item in data:
        labels = item.get("labels") if isinstance(item, dict) else None
        status = item.get("status") if isinstance(item, dict) else None
        if not isinstance(labels, dict) or not isinstance(status, dict):
            raise ValueError("/api/v2/alerts answered an alert without labels or status")
        if labels.get("alertname") == c.ALERT_WATCHDOG:
            continue
        receivers = item.get("receivers") or []
        out.append(
            Alert(
                labels={k: str(labels[k]) for k in _KEPT_LABELS if k in labels},
                state=str(status.get("state", "")),
                inhibited=bool(status.get("inhibitedBy")),
                silenced=bool(status.get("silencedBy")),
                starts_at=str(item.get("startsAt", "")),
                receivers=tuple(str(r.get("name", "")) for r in receivers if isinstance(r, dict)),
            )
        )
    return tuple(out)


def shown_url(url: str) -> str:
    """The URL without user and password, fit to show on a page."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _why(err: BaseException) -> str:
    import httpx

    if isinstance(err, httpx.TimeoutException | TimeoutError):
        return "no answer in time"
    if isinstance(err, httpx.ConnectError):
        return "connection failed"
    if isinstance(err, json.JSONDecodeError):
        return "the answer is not JSON"
    return str(err) or type(err).__name__


def _replace(state: AlertState, **changes: Any) -> AlertState:
    fields = {name: getattr(state, name) for name in AlertState.__slots__}
    return AlertState(**{**fields, **changes})
