"""The HTTP service's tables: API tokens (hashed), idempotency records, webhook subscriptions
and their delivery log.

Written in portable SQL (``?`` placeholders, ``ON CONFLICT``, ``RETURNING``) so that another
store implementation can run the same statements. The invariants live in the database: one
idempotency record per (token, key) and one delivery per (subscription, event) are primary
keys; a delivery is claimed by a conditional ``UPDATE``, so several worker processes never
send it twice at once.
"""

from __future__ import annotations

import datetime
import json

from sqlite_utils.migrations import Migrations

from .database import Area, isoformat

migrations = Migrations("c2m.server")

IN_FLIGHT = "in_flight"

#: The columns each table's rows are read with (as dict keys), in table order.
_COLUMNS = {
    "api_tokens": ("id", "name", "prefix", "sha256", "scopes", "created_at", "revoked_at"),
    "idempotency_records": (
        "token_id", "key", "method", "path", "request_sha256", "request", "state", "status",
        "media_type", "response", "created_at", "locked_until",
    ),
    "webhook_subscriptions": (
        "id", "url", "types", "campaign", "secret", "state", "cursor", "created_at",
        "disabled_reason",
    ),
    "webhook_deliveries": (
        "id", "subscription_id", "event_id", "event_type", "message_id", "state", "attempts",
        "next_attempt_at", "lease_until", "last_error", "response_status", "created_at",
        "updated_at", "delivered_at",
    ),
    "server_secrets": ("value",),
}  # fmt: skip
DONE = "done"


@migrations()
def m001_server(db):
    db.execute(
        """
        CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            prefix TEXT NOT NULL,
            sha256 TEXT NOT NULL UNIQUE,
            scopes TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE idempotency_records (
            token_id INTEGER NOT NULL,
            key TEXT NOT NULL,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            request_sha256 TEXT NOT NULL,
            request TEXT NOT NULL,
            state TEXT NOT NULL,
            status INTEGER,
            media_type TEXT,
            response BLOB,
            created_at TEXT NOT NULL,
            locked_until TEXT NOT NULL,
            PRIMARY KEY (token_id, key)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE webhook_subscriptions (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            types TEXT NOT NULL,
            campaign TEXT,
            secret TEXT NOT NULL,
            state TEXT NOT NULL,
            cursor INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            disabled_reason TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE webhook_deliveries (
            id INTEGER PRIMARY KEY,
            subscription_id INTEGER NOT NULL REFERENCES webhook_subscriptions (id),
            event_id INTEGER NOT NULL,
            event_type TEXT NOT NULL,
            message_id TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            lease_until TEXT,
            last_error TEXT,
            response_status INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            delivered_at TEXT,
            UNIQUE (subscription_id, event_id)
        )
        """
    )
    db.execute("CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at)")


@migrations()
def m002_server_secrets(db):
    db.execute("CREATE TABLE server_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)")


class ServerStore(Area):
    """The HTTP service's named operations, reached as ``store.server``."""

    name = "server"
    migrations = migrations

    def _rows(self, table: str, sql: str, params=(), alias: str = "") -> list[dict]:
        """``table``'s rows as dicts; ``{columns}`` in ``sql`` stands for its ``_COLUMNS``
        (each prefixed with ``alias.`` when given)."""
        columns = _COLUMNS[table]
        listed = ", ".join(f"{alias}.{c}" if alias else c for c in columns)
        rows = self.query(sql.replace("{columns}", listed), list(params))
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def _later(self, seconds: float) -> str:
        return isoformat(self.store.clock() + datetime.timedelta(seconds=seconds))

    # Tokens -------------------------------------------------------------------------------------

    def insert_token(self, name: str, prefix: str, sha256: str, scopes: tuple[str, ...]) -> dict:
        return self._rows(
            "api_tokens",
            "INSERT INTO api_tokens (name, prefix, sha256, scopes, created_at) "
            "VALUES (?, ?, ?, ?, ?) RETURNING {columns}",
            [name, prefix, sha256, json.dumps(list(scopes)), self.store.now()],
        )[0]

    def token_by_hash(self, sha256: str) -> dict | None:
        rows = self._rows(
            "api_tokens",
            "SELECT {columns} FROM api_tokens WHERE sha256 = ? AND revoked_at IS NULL",
            [sha256],
        )
        return rows[0] if rows else None

    def tokens(self) -> list[dict]:
        return self._rows("api_tokens", "SELECT {columns} FROM api_tokens ORDER BY id")

    def revoke_token(self, token_id: int) -> bool:
        changed = self.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            [self.store.now(), token_id],
        )
        return changed == 1

    # Secrets -----------------------------------------------------------------------------------

    def secret(self, name: str, fresh: str) -> str:
        """The secret called ``name``: ``fresh`` if none was stored yet (first writer wins)."""
        self.execute(
            "INSERT INTO server_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            [name, fresh],
        )
        return self._rows(
            "server_secrets", "SELECT {columns} FROM server_secrets WHERE name = ?", [name]
        )[0]["value"]

    # Idempotency records ------------------------------------------------------------------------

    def claim_key(
        self,
        token_id: int,
        key: str,
        method: str,
        path: str,
        request_sha256: str,
        request: str,
        lease_seconds: float,
    ) -> bool:
        """Record a request in flight under (token, key); False when the key is taken.

        An in-flight record whose lease ran out (its worker died) is taken over.
        """
        now = self.store.now()
        changed = self.execute(
            "INSERT INTO idempotency_records (token_id, key, method, path, request_sha256, "
            "request, state, created_at, locked_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (token_id, key) DO UPDATE SET method = excluded.method, "
            "path = excluded.path, request_sha256 = excluded.request_sha256, "
            "request = excluded.request, created_at = excluded.created_at, "
            "locked_until = excluded.locked_until "
            "WHERE idempotency_records.state = ? AND idempotency_records.locked_until < ?",
            [
                token_id,
                key,
                method,
                path,
                request_sha256,
                request,
                IN_FLIGHT,
                now,
                self._later(lease_seconds),
                IN_FLIGHT,
                now,
            ],
        )
        return changed == 1

    def idempotency_record(self, token_id: int, key: str) -> dict | None:
        rows = self._rows(
            "idempotency_records",
            "SELECT {columns} FROM idempotency_records WHERE token_id = ? AND key = ?",
            [token_id, key],
        )
        return rows[0] if rows else None

    def finish_key(
        self, token_id: int, key: str, status: int, media_type: str, response: bytes
    ) -> None:
        self.execute(
            "UPDATE idempotency_records SET state = ?, status = ?, media_type = ?, response = ? "
            "WHERE token_id = ? AND key = ?",
            [DONE, status, media_type, response, token_id, key],
        )

    def release_key(self, token_id: int, key: str) -> None:
        """Forget an in-flight record whose request failed unexpectedly, so it may be retried."""
        self.execute(
            "DELETE FROM idempotency_records WHERE token_id = ? AND key = ? AND state = ?",
            [token_id, key, IN_FLIGHT],
        )

    # Webhook subscriptions ----------------------------------------------------------------------

    def insert_subscription(
        self, url: str, types: tuple[str, ...], campaign: str | None, secret: str, cursor: int
    ) -> dict:
        return self._rows(
            "webhook_subscriptions",
            "INSERT INTO webhook_subscriptions (url, types, campaign, secret, state, cursor, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {columns}",
            [url, json.dumps(list(types)), campaign, secret, "active", cursor, self.store.now()],
        )[0]

    def subscription(self, subscription_id: int) -> dict | None:
        rows = self._rows(
            "webhook_subscriptions",
            "SELECT {columns} FROM webhook_subscriptions WHERE id = ?",
            [subscription_id],
        )
        return rows[0] if rows else None

    def subscriptions(self, after: int = 0, limit: int = 100) -> list[dict]:
        return self._rows(
            "webhook_subscriptions",
            "SELECT {columns} FROM webhook_subscriptions WHERE id > ? ORDER BY id LIMIT ?",
            [after, limit],
        )

    def set_subscription_state(
        self, subscription_id: int, state: str, reason: str | None = None
    ) -> None:
        self.execute(
            "UPDATE webhook_subscriptions SET state = ?, disabled_reason = ? WHERE id = ?",
            [state, reason, subscription_id],
        )

    def move_cursor(self, subscription_id: int, old: int, new: int) -> bool:
        """Advance a subscription's event cursor from ``old``; False when another worker did."""
        changed = self.execute(
            "UPDATE webhook_subscriptions SET cursor = ? WHERE id = ? AND cursor = ?",
            [new, subscription_id, old],
        )
        return changed == 1

    # Webhook deliveries -------------------------------------------------------------------------

    def add_delivery(
        self, subscription_id: int, event_id: int, event_type: str, message_id: str
    ) -> None:
        now = self.store.now()
        self.execute(
            "INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, message_id, "
            "state, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (subscription_id, event_id) DO NOTHING",
            [subscription_id, event_id, event_type, message_id, "pending", now, now, now],
        )

    def due_deliveries(self, limit: int = 100) -> list[dict]:
        now = self.store.now()
        return self._rows(
            "webhook_deliveries",
            "SELECT {columns} FROM webhook_deliveries d JOIN webhook_subscriptions s "
            "ON s.id = d.subscription_id WHERE d.state = 'pending' AND s.state = 'active' "
            "AND d.next_attempt_at <= ? AND (d.lease_until IS NULL OR d.lease_until < ?) "
            "ORDER BY d.id LIMIT ?",
            [now, now, limit],
            alias="d",
        )

    def claim_delivery(self, delivery_id: int, lease_seconds: float) -> bool:
        """Lease a due delivery for one attempt; False when another worker holds it."""
        now = self.store.now()
        changed = self.execute(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, lease_until = ?, "
            "updated_at = ? WHERE id = ? AND state = 'pending' "
            "AND (lease_until IS NULL OR lease_until < ?)",
            [self._later(lease_seconds), now, delivery_id, now],
        )
        return changed == 1

    def record_delivery(
        self,
        delivery_id: int,
        state: str,
        status: int | None,
        error: str | None,
        retry_in: float = 0.0,
    ) -> None:
        now = self.store.now()
        self.execute(
            "UPDATE webhook_deliveries SET state = ?, response_status = ?, last_error = ?, "
            "next_attempt_at = ?, lease_until = NULL, updated_at = ?, "
            "delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END WHERE id = ?",
            [state, status, error, self._later(retry_in), now, state, now, delivery_id],
        )

    def deliveries(self, subscription_id: int, after: int = 0, limit: int = 100) -> list[dict]:
        return self._rows(
            "webhook_deliveries",
            "SELECT {columns} FROM webhook_deliveries WHERE subscription_id = ? AND id > ? "
            "ORDER BY id LIMIT ?",
            [subscription_id, after, limit],
        )
