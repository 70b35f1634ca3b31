"""Hand-offs, their rendered documents, the delivery outbox and disabled endpoints."""

from __future__ import annotations

import datetime
import json

from sqlite_utils.migrations import Migrations

from ..handoff.documents import Document
from ..handoff.outbox import DEAD, DELIVERED, DISABLED, PENDING, Delivery
from ..handoff.service import Handoff
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


class HandoffStore(Area):
    name = "handoff"
    migrations = migrations

    # Hand-offs and documents --------------------------------------------------------------------

    def insert(self, handoff: Handoff, documents: tuple[Document, ...]) -> Handoff:
        """Insert a hand-off and its documents (call inside the hand-off's transaction)."""
        self.db.execute(
            "INSERT INTO handoffs (id, campaign_id, variant_id, position, quantity, due_date, "
            "demand, record, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                self.store.now(),
            ],
        )
        for position, document in enumerate(documents):
            self.db.execute(
                "INSERT INTO handoff_documents (handoff_id, position, kind, name, media_type, "
                "content, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    handoff.id,
                    position,
                    document.kind,
                    document.name,
                    document.media_type,
                    document.content,
                    document.sha256,
                ],
            )
        return self.get(handoff.id)

    def get(self, handoff_id: str) -> Handoff | None:
        rows = list(self.db["handoffs"].rows_where("id = ?", [handoff_id]))
        return self._handoff(rows[0]) if rows else None

    def for_campaign(self, campaign_id: int) -> list[Handoff]:
        return [
            self._handoff(row)
            for row in self.db["handoffs"].rows_where(
                "campaign_id = ?", [campaign_id], order_by="position, id"
            )
        ]

    def documents(self, handoff_id: str) -> tuple[Document, ...]:
        rows = self.db.execute(
            "SELECT kind, name, media_type, content FROM handoff_documents "
            "WHERE handoff_id = ? ORDER BY position",
            [handoff_id],
        ).fetchall()
        return tuple(
            Document(kind, name, media_type, bytes(content))
            for kind, name, media_type, content in rows
        )

    # Outbox -------------------------------------------------------------------------------------

    def add_delivery(self, handoff_id: str, target: str, idempotency_key: str) -> bool:
        """Queue ``handoff_id`` for ``target``; False when it is queued already."""
        now = self.store.now()
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO handoff_outbox (handoff_id, target, idempotency_key, state, "
            "next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [handoff_id, target, idempotency_key, PENDING, now, now, now],
        )
        return cursor.rowcount == 1

    def delivery(self, delivery_id: int) -> Delivery | None:
        rows = list(self.db["handoff_outbox"].rows_where("id = ?", [delivery_id]))
        return self._delivery(rows[0]) if rows else None

    def deliveries(self, campaign_id: int) -> list[Delivery]:
        """Every outbox row of a campaign, by hand-off order, then target."""
        cursor = self.db.execute(
            "SELECT o.* FROM handoff_outbox o JOIN handoffs h ON h.id = o.handoff_id "
            "WHERE h.campaign_id = ? ORDER BY h.position, h.id, o.target",
            [campaign_id],
        )
        columns = [c[0] for c in cursor.description]
        return [self._delivery(dict(zip(columns, row, strict=True))) for row in cursor.fetchall()]

    def start_attempt(self, delivery_id: int, owner: str, lease_seconds: float) -> None:
        """Count an attempt and lease the row to ``owner`` (the caller checked it may)."""
        self.db.execute(
            "UPDATE handoff_outbox SET attempts = attempts + 1, lease_owner = ?, "
            "lease_until = ?, updated_at = ? WHERE id = ?",
            [owner, self._later(lease_seconds), self.store.now(), delivery_id],
        )

    def record_delivered(self, delivery_id: int, receipt: dict) -> None:
        now = self.store.now()
        self.db.execute(
            "UPDATE handoff_outbox SET state = ?, receipt = ?, last_error = NULL, "
            "lease_owner = NULL, lease_until = NULL, updated_at = ?, delivered_at = ? "
            "WHERE id = ?",
            [DELIVERED, json.dumps(receipt, sort_keys=True, default=str), now, now, delivery_id],
        )

    def record_failed(
        self, delivery_id: int, state: str, error: str, retry_in: float = 0.0
    ) -> None:
        """Record a failed attempt: still ``pending`` (due again in ``retry_in`` s), or final."""
        self.db.execute(
            "UPDATE handoff_outbox SET state = ?, last_error = ?, next_attempt_at = ?, "
            "lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE id = ?",
            [state, error, self._later(retry_in), self.store.now(), delivery_id],
        )

    def _later(self, seconds: float) -> str:
        return isoformat(self.store.clock() + datetime.timedelta(seconds=seconds))

    def revive(self, campaign_id: int) -> list[Delivery]:
        """Put a campaign's dead and disabled deliveries back to pending; return them."""
        now = self.store.now()
        revived = [d for d in self.deliveries(campaign_id) if d.state in (DEAD, DISABLED)]
        for delivery in revived:
            self.db.execute(
                "UPDATE handoff_outbox SET state = ?, attempts = 0, next_attempt_at = ?, "
                "lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE id = ?",
                [PENDING, now, now, delivery.id],
            )
        return revived

    # Endpoints ----------------------------------------------------------------------------------

    def disable_endpoint(self, target: str, reason: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO handoff_endpoints (target, disabled_at, reason) "
            "VALUES (?, ?, ?)",
            [target, self.store.now(), reason],
        )

    def enable_endpoint(self, target: str) -> None:
        self.db.execute("DELETE FROM handoff_endpoints WHERE target = ?", [target])

    def disabled_reason(self, target: str) -> str | None:
        row = self.db.execute(
            "SELECT disabled_at, reason FROM handoff_endpoints WHERE target = ?", [target]
        ).fetchone()
        return f"{row[1]} (disabled {row[0]})" if row else None

    # Rows -> values -----------------------------------------------------------------------------

    @staticmethod
    def _handoff(row: dict) -> Handoff:
        return Handoff(
            id=row["id"],
            campaign_id=row["campaign_id"],
            variant_id=row["variant_id"],
            position=row["position"],
            quantity=row["quantity"],
            due_date=row["due_date"],
            demand=json.loads(row["demand"]),
            record=json.loads(row["record"]),
            sha256=row["sha256"],
            created_at=row["created_at"],
        )

    @staticmethod
    def _delivery(row: dict) -> Delivery:
        return Delivery(
            id=row["id"],
            handoff_id=row["handoff_id"],
            target=row["target"],
            idempotency_key=row["idempotency_key"],
            state=row["state"],
            attempts=row["attempts"],
            next_attempt_at=row["next_attempt_at"],
            last_error=row["last_error"],
            receipt=json.loads(row["receipt"]) if row["receipt"] else None,
            lease_owner=row["lease_owner"],
            lease_until=row["lease_until"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            delivered_at=row["delivered_at"],
        )
