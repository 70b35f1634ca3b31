"""API tokens: created once and shown once, stored as a SHA-256 hash, revoked by id.

A token reads ``c2m_<prefix>_<secret>``; the prefix identifies it in listings without
revealing it. Used by ``c2m token`` and by the server's authentication.
"""

from __future__ import annotations

import hashlib
import json
import secrets

import attrs

from ..errors import InvalidInput, NotFound
from .scopes import check_scopes

MAX_NAME = 100


@attrs.frozen
class Token:
    """A stored token (never its secret)."""

    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: str
    revoked_at: str | None = None

    def to_dict(self) -> dict:
        return attrs.asdict(self) | {"scopes": list(self.scopes)}


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _token(row: dict) -> Token:
    return Token(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        scopes=tuple(json.loads(row["scopes"])),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def create_token(app, name: str, scopes) -> tuple[str, Token]:
    """Create a token; returns its text (shown once, never stored) and its record."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidInput(
            f"token name {name!r}: give a name of 1 to {MAX_NAME} characters",
            field="name",
            value=name,
            accepted=f"1 to {MAX_NAME} characters",
        )
    scopes = check_scopes(scopes)
    prefix = secrets.token_hex(4)
    text = f"c2m_{prefix}_{secrets.token_urlsafe(32)}"
    store = app.store
    with store.transaction():
        row = store.server.insert_token(name.strip(), prefix, _hash(text), scopes)
        store.event("token.created", None, {"id": row["id"], "name": row["name"]})
    return text, _token(row)


def list_tokens(app) -> list[Token]:
    return [_token(row) for row in app.store.server.tokens()]


def revoke_token(app, token_id: int) -> Token:
    """Revoke token ``token_id``; revoking a revoked token changes nothing."""
    store = app.store
    with store.transaction():
        known = {t["id"]: t for t in store.server.tokens()}
        if token_id not in known:
            raise NotFound(f"no token with id {token_id}", field="id", value=token_id)
        if store.server.revoke_token(token_id):
            store.event("token.revoked", None, {"id": token_id})
    return next(t for t in list_tokens(app) if t.id == token_id)


def verify_token(app, text: str) -> Token | None:
    """The live token whose text is ``text``, or None."""
    row = app.store.server.token_by_hash(_hash(text))
    return _token(row) if row else None
