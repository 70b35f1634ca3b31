"""Hand-offs, their rendered documents, the delivery outbox and disabled endpoints."""

from __future__ import annotations

import datetime
import json

from sqlite_utils.migrations import Migrations

from ..handoff.outbox import DEAD, DELIVERED, DISABLED, PENDING, Delivery
from ..handoff.records import Document, Handoff
from .database import Area, isoformat

migrations = Migrations("c2m.handoffs")


@migrations()
def m001_handoffs(db):
    db.execute(
        """
        CREATE TABLE handoffs (
            id TEXT PRIMARY KEY,
            campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
            variant_id INTEGER NOT NULL REFERENCES variants (id),
            position INTEGER NOT NULL,
            quantity INTEGER NOT NULL,
            due_date TEXT NOT NULL,
            demand TEXT NOT NULL,
            record TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (campaign_id, variant_id)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE handoff_documents (
            handoff_id TEXT NOT NULL REFERENCES handoffs (id),
            position INTEGER NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            media_type TEXT NOT NULL,
            content BLOB NOT NULL,
            sha256 TEXT NOT NULL,
            PRIMARY KEY (handoff_id, kind)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE handoff_outbox (
            id INTEGER PRIMARY KEY,
            handoff_id TEXT NOT NULL REFERENCES handoffs (id),
            target TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            receipt TEXT,
            lease_owner TEXT,
            lease_until TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            delivered_at TEXT,
            UNIQUE (handoff_id, target)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE handoff_endpoints (
            target TEXT PRIMARY KEY,
            disabled_at TEXT NOT NULL,
            reason TEXT NOT NULL
        )
        """
    )


_HANDOFF_COLUMNS = (
    "id, campaign_id, variant_id, position, quantity, due_date, demand, record, sha256, created_at"
)
_DELIVERY_COLUMNS = (
    "id, handoff_id, target, idempotency_key, state, attempts, next_attempt_at, last_error, "
    "receipt, lease_owner, lease_until, created_at, updated_at, delivered_at"
)


class HandoffStore(Area):
    """Hand-offs, their documents, the delivery outbox and disabled endpoints
    (``interface.HandoffArea``)."""

    name = "handoff"
    migrations = migrations

    # Hand-offs and documents --------------------------------------------------------------------

    def insert(self, handoff: Handoff, documents: tuple[Document, ...]) -> Handoff | None:
        """Record a hand-off and its documents; None when the campaign has a hand-off of this
        variant (or this id) already: unique constraints, nothing stored."""
        inserted = self.insert_returning(
            "INSERT INTO handoffs (id, campaign_id, variant_id, position, quantity, due_date, "
            "demand, record, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING id",
            [
                handoff.id,
                handoff.campaign_id,
                handoff.variant_id,
                handoff.position,
                handoff.quantity,
                handoff.due_date,
                json.dumps(handoff.demand, sort_keys=True, ensure_ascii=False),
                json.dumps(handoff.record, sort_keys=True, ensure_ascii=False),
                handoff.sha256,
                self.now(),
            ],
        )
        if inserted is None:
            return None
        self.executemany(
            "INSERT INTO handoff_documents (handoff_id, position, kind, name, media_type, "
            "content, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    handoff.id,
                    position,
                    document.kind,
                    document.name,
                    document.media_type,
                    document.content,
                    document.sha256,
                )
                for position, document in enumerate(documents)
            ],
        )
        return self.get(handoff.id)

    def get(self, handoff_id: str) -> Handoff | None:
        row = self.query_one(f"SELECT {_HANDOFF_COLUMNS} FROM handoffs WHERE id = ?", [handoff_id])
        return self._handoff(row) if row else None

    def for_campaign(self, campaign_id: int) -> list[Handoff]:
        rows = self.query(
            f"SELECT {_HANDOFF_COLUMNS} FROM handoffs WHERE campaign_id = ? ORDER BY position, id",
            [campaign_id],
        )
        return [self._handoff(row) for row in rows]

    def documents(self, handoff_id: str) -> tuple[Document, ...]:
        rows = self.query(
            "SELECT kind, name, media_type, content FROM handoff_documents "
            "WHERE handoff_id = ? ORDER BY position",
            [handoff_id],
        )
        return tuple(
            Document(kind, name, media_type, bytes(content))
            for kind, name, media_type, content in rows
        )

    # Outbox -------------------------------------------------------------------------------------

    def add_delivery(self, handoff_id: str, target: str, idempotency_key: str) -> Delivery | None:
        """Queue ``handoff_id`` for ``target``; None when it is queued already.

        One row per (hand-off, target) is a unique constraint: concurrent callers queue it once.
        """
        now = self.now()
        delivery_id = self.insert_returning(
            "INSERT INTO handoff_outbox (handoff_id, target, idempotency_key, state, "
            "next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (handoff_id, target) DO NOTHING RETURNING id",
            [handoff_id, target, idempotency_key, PENDING, now, now, now],
        )
        return None if delivery_id is None else self.delivery(delivery_id)

    def delivery(self, delivery_id: int) -> Delivery | None:
        row = self.query_one(
            f"SELECT {_DELIVERY_COLUMNS} FROM handoff_outbox WHERE id = ?", [delivery_id]
        )
        return self._delivery(row) if row else None

    def deliveries(self, campaign_id: int) -> list[Delivery]:
        """Every outbox row of a campaign, by hand-off order, then target."""
        columns = ", ".join(f"o.{c.strip()}" for c in _DELIVERY_COLUMNS.split(","))
        rows = self.query(
            f"SELECT {columns} FROM handoff_outbox o JOIN handoffs h ON h.id = o.handoff_id "
            "WHERE h.campaign_id = ? ORDER BY h.position, h.id, o.target",
            [campaign_id],
        )
        return [self._delivery(row) for row in rows]

    def start_attempt(
        self, delivery_id: int, owner: str, lease_seconds: float, attempts: int
    ) -> bool:
        """Count an attempt and lease the row to ``owner``, if it is still pending after
        ``attempts`` attempts (one conditional update); False when another worker started
        one first or the row is no longer pending."""
        return (
            self.execute(
                "UPDATE handoff_outbox SET attempts = attempts + 1, lease_owner = ?, "
                "lease_until = ?, updated_at = ? WHERE id = ? AND state = ? AND attempts = ?",
                [owner, self._later(lease_seconds), self.now(), delivery_id, PENDING, attempts],
            )
            == 1
        )

    def record_delivered(self, delivery_id: int, receipt: dict) -> bool:
        """Mark a pending delivery delivered with the connector's receipt; False when it was
        not pending."""
        now = self.now()
        return (
            self.execute(
                "UPDATE handoff_outbox SET state = ?, receipt = ?, last_error = NULL, "
                "lease_owner = NULL, lease_until = NULL, updated_at = ?, delivered_at = ? "
                "WHERE id = ? AND state = ?",
                [
                    DELIVERED,
                    json.dumps(receipt, sort_keys=True, default=str),
                    now,
                    now,
                    delivery_id,
                    PENDING,
                ],
            )
            == 1
        )

    def record_failed(
        self, delivery_id: int, state: str, error: str, retry_in: float = 0.0
    ) -> bool:
        """Record a failed attempt of a pending delivery: still ``pending`` (due again in
        ``retry_in`` s), or final (``dead``, ``disabled``); False when it was not pending."""
        return (
            self.execute(
                "UPDATE handoff_outbox SET state = ?, last_error = ?, next_attempt_at = ?, "
                "lease_owner = NULL, lease_until = NULL, updated_at = ? "
                "WHERE id = ? AND state = ?",
                [state, error, self._later(retry_in), self.now(), delivery_id, PENDING],
            )
            == 1
        )

    def _later(self, seconds: float) -> str:
        return isoformat(self.store.clock() + datetime.timedelta(seconds=seconds))

    def revive(self, campaign_id: int) -> list[Delivery]:
        """Put a campaign's dead and disabled deliveries back to pending; return them."""
        now = self.now()
        rows = self.query(
            "UPDATE handoff_outbox SET state = ?, attempts = 0, next_attempt_at = ?, "
            "lease_owner = NULL, lease_until = NULL, updated_at = ? "
            "WHERE state IN (?, ?) "
            "AND handoff_id IN (SELECT id FROM handoffs WHERE campaign_id = ?) "
            f"RETURNING {_DELIVERY_COLUMNS}",
            [PENDING, now, now, DEAD, DISABLED, campaign_id],
        )
        return sorted((self._delivery(row) for row in rows), key=lambda d: d.id)

    # Endpoints ----------------------------------------------------------------------------------

    def disable_endpoint(self, target: str, reason: str) -> None:
        self.execute(
            "INSERT INTO handoff_endpoints (target, disabled_at, reason) VALUES (?, ?, ?) "
            "ON CONFLICT (target) DO UPDATE SET disabled_at = excluded.disabled_at, "
            "reason = excluded.reason",
            [target, self.now(), reason],
        )

    def enable_endpoint(self, target: str) -> None:
        self.execute("DELETE FROM handoff_endpoints WHERE target = ?", [target])

    def disabled_reason(self, target: str) -> str | None:
        """Why ``target`` is disabled, with when; None while it is enabled."""
        row = self.query_one(
            "SELECT disabled_at, reason FROM handoff_endpoints WHERE target = ?", [target]
        )
        return f"{row[1]} (disabled {row[0]})" if row else None

    # Rows -> records ----------------------------------------------------------------------------

    @staticmethod
    def _handoff(row: tuple) -> Handoff:
        ident, campaign_id, variant_id, position, quantity, due, demand, record, sha, at = row
        return Handoff(
            id=ident,
            campaign_id=campaign_id,
            variant_id=variant_id,
            position=position,
            quantity=quantity,
            due_date=due,
            demand=json.loads(demand),
            record=json.loads(record),
            sha256=sha,
            created_at=at,
        )

    @staticmethod
    def _delivery(row: tuple) -> Delivery:
        values = dict(zip(_DELIVERY_NAMES, row, strict=True))
        receipt = values["receipt"]
        values["receipt"] = json.loads(receipt) if receipt else None
        return Delivery(**values)


_DELIVERY_NAMES = tuple(c.strip() for c in _DELIVERY_COLUMNS.split(","))
