"""Signed values for the pages: consumer tokens, the brand's dashboard session, CSRF tokens.

A signed value is ``<base64url JSON>.<base64url HMAC-SHA256>`` under a secret kept in the
database (``server_secrets``), so every worker process verifies what another one signed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from ipaddress import ip_address

#: Longest a consumer token may live (seconds); the default is 15 minutes.
MAX_CONSUMER_TTL = 24 * 3600
DEFAULT_CONSUMER_TTL = 15 * 60
SESSION_TTL = 12 * 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs and verifies small JSON payloads with an expiry and a purpose."""

    def __init__(self, key: bytes, clock=time.time):
        self.key = key
        self.clock = clock

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self.key, body.encode("ascii"), hashlib.sha256).digest())

    def sign(self, purpose: str, payload: dict, ttl: float) -> str:
        data = {"p": purpose, "x": int(self.clock() + ttl), **payload}
        body = _b64(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
        return f"{body}.{self._mac(body)}"

    def verify(self, purpose: str, text: str | None) -> dict | None:
        """The payload of ``text`` if signed here for ``purpose`` and not expired, else None."""
        if not text or len(text) > 4096 or text.count(".") != 1:
            return None
        body, mac = text.split(".")
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            data = json.loads(_unb64(body))
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("p") != purpose:
            return None
        if not isinstance(data.get("x"), int) or data["x"] < self.clock():
            return None
        return data


def signer_for(app) -> Signer:
    """The signer of ``app``'s database (its secret is made on first use)."""
    store = app.store
    with store.transaction():
        secret = store.server.secret("pages", secrets.token_urlsafe(32))
    return Signer(secret.encode("ascii"))


def consumer_token(signer: Signer, campaign: str, customer: str, ttl: float) -> str:
    """A token that lets the pages act for ``customer`` on ``campaign`` for ``ttl`` seconds."""
    return signer.sign("consumer", {"c": campaign, "u": customer}, ttl)


def csrf_token(signer: Signer, session: str) -> str:
    """The form token bound to the browser's CSRF cookie ``session``."""
    return signer.sign("csrf", {"s": hashlib.sha256(session.encode()).hexdigest()[:32]}, 12 * 3600)


def csrf_ok(signer: Signer, session: str | None, token: str | None) -> bool:
    data = signer.verify("csrf", token)
    if data is None or not session:
        return False
    return hmac.compare_digest(data["s"], hashlib.sha256(session.encode()).hexdigest()[:32])


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``--demo-login`` serves only those)."""
    if host == "localhost":
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
