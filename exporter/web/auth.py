"""Basic auth against bcrypt hashes, and the ASGI guard that puts it before every endpoint."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import secrets

import bcrypt
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exporter.web.config import WebSecurity

REALM = "business_exporter"
# bcrypt looks at 72 bytes at most; the library refuses longer passwords rather than cut them.
BCRYPT_MAX_BYTES = 72


class BasicAuth:
    """Checks `Authorization: Basic` credentials against bcrypt hashes.

    bcrypt costs tens of milliseconds by design, too much for a scrape every few seconds.
    A user's last verified password is kept as a keyed digest and compared in constant time,
    so a scraper's repeated credentials cost microseconds and a wrong password still costs a
    full bcrypt check. Checks run one at a time in a worker thread: a flood of wrong guesses
    keeps one core busy at most, and never the event loop. An unknown user is checked against
    a decoy hash of the same cost, so timing does not tell which users exist.
    """

    def __init__(self, users: dict[str, bytes]) -> None:
        self.users = users
        self.bcrypt_checks = 0
        self._key = secrets.token_bytes(32)  # digests mean nothing outside this process
        self._verified: dict[str, tuple[bytes, bytes]] = {}  # user -> (hash, digest)
        self._one_at_a_time = asyncio.Lock()
        cost = max((int(h.split(b"$")[2]) for h in users.values()), default=4)
        self._decoy = bcrypt.hashpw(secrets.token_hex(16).encode(), bcrypt.gensalt(cost))

    async def allows(self, authorization: str | None) -> bool:
        """Whether an Authorization header's credentials are a configured user's."""
        credentials = _credentials(authorization)
        if credentials is None:
            return False
        user, password = credentials
        hashed = self.users.get(user)
        digest = hmac.new(self._key, password, hashlib.sha256).digest()
        if hashed is None:
            await self._bcrypt(password, self._decoy)
            return False
        kept_hash, kept_digest = self._verified.get(user, (b"", b""))
        if kept_hash == hashed and hmac.compare_digest(kept_digest, digest):
            return True
        ok = await self._bcrypt(password, hashed)
        if ok:
            self._verified[user] = (hashed, digest)
        return ok

    async def _bcrypt(self, password: bytes, hashed: bytes) -> bool:
        async with self._one_at_a_time:
            self.bcrypt_checks += 1
            return await asyncio.to_thread(_checkpw, password, hashed)


def _checkpw(password: bytes, hashed: bytes) -> bool:
    if len(password) > BCRYPT_MAX_BYTES:  # no user's password: spend the same time anyway
        bcrypt.checkpw(b"", hashed)
        return False
    return bcrypt.checkpw(password, hashed)


def _credentials(authorization: str | None) -> tuple[str, bytes] | None:
    if authorization is None:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    if not colon:
        return None
    try:
        return user.decode("utf-8"), password
    except UnicodeDecodeError:
        return None


class WebGuard:
    """ASGI middleware: basic auth before every endpoint, and the configured headers after."""

    def __init__(self, app: ASGIApp, security: WebSecurity) -> None:
        self.app = app
        self.auth = BasicAuth(security.users) if security.users else None
        self.headers = [(k.lower().encode(), v.encode("latin-1")) for k, v in security.headers]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # the lifespan
            await self.app(scope, receive, send)
            return
        send = self._with_headers(send)
        if self.auth is not None and not await self.auth.allows(_header(scope, b"authorization")):
            await _unauthorized(send)
            return
        await self.app(scope, receive, send)

    def _with_headers(self, send: Send) -> Send:
        if not self.headers:
            return send

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.headers]}
            await send(message)

        return send_with_headers


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def _unauthorized(send: Send) -> None:
    body = b"Unauthorized: this exporter needs basic-auth credentials.\n"
    headers = [
        (b"www-authenticate", f'Basic realm="{REALM}", charset="UTF-8"'.encode()),
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})
