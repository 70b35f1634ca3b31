"""Campaigns and their frozen catalog snapshots."""

from __future__ import annotations

import json

from sqlite_utils.migrations import Migrations

from ..campaigns.service import Campaign
from .database import Area

migrations = Migrations("c2m.campaigns")


@migrations()
def m001_campaigns(db):
    db.execute(
        """
        CREATE TABLE catalog_snapshots (
            id INTEGER PRIMARY KEY,
            category TEXT NOT NULL,
            digest TEXT NOT NULL UNIQUE,
            data TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE campaigns (
            id INTEGER PRIMARY KEY,
            slug TEXT NOT NULL UNIQUE,
            category TEXT NOT NULL,
            title TEXT NOT NULL,
            currency TEXT NOT NULL,
            stages TEXT NOT NULL,
            settings TEXT NOT NULL,
            state TEXT NOT NULL,
            catalog_snapshot_id INTEGER REFERENCES catalog_snapshots (id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )


class CampaignStore(Area):
    name = "campaigns"
    migrations = migrations

    def insert(self, campaign: Campaign) -> Campaign:
        """Insert a new campaign (the caller checked the slug is free inside the transaction)."""
        now = self.store.now()
        cursor = self.db.execute(
            "INSERT INTO campaigns (slug, category, title, currency, stages, settings, state, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                campaign.slug,
                campaign.category,
                campaign.title,
                campaign.currency,
                json.dumps(list(campaign.stages)),
                json.dumps(campaign.settings, sort_keys=True),
                campaign.state,
                now,
                now,
            ],
        )
        return self.get_by_id(cursor.lastrowid)

    def get(self, slug: str) -> Campaign | None:
        return self._one("slug = ?", slug)

    def get_by_id(self, campaign_id: int) -> Campaign | None:
        return self._one("id = ?", campaign_id)

    def all(self) -> list[Campaign]:
        return [self._campaign(row) for row in self.db["campaigns"].rows_where(order_by="id")]

    def set_state(self, campaign_id: int, old: str, new: str) -> bool:
        """Move ``old`` -> ``new``; False when the state was no longer ``old``."""
        cursor = self.db.execute(
            "UPDATE campaigns SET state = ?, updated_at = ? WHERE id = ? AND state = ?",
            [new, self.store.now(), campaign_id, old],
        )
        return cursor.rowcount == 1

    def update_settings(self, campaign_id: int, settings: dict) -> None:
        self.db.execute(
            "UPDATE campaigns SET settings = ?, updated_at = ? WHERE id = ?",
            [json.dumps(settings, sort_keys=True), self.store.now(), campaign_id],
        )

    def freeze_catalog(self, campaign_id: int, category: str, digest: str, data: dict) -> int:
        """Attach a catalog snapshot (shared between campaigns with the same digest)."""
        row = self.db.execute(
            "SELECT id FROM catalog_snapshots WHERE digest = ?", [digest]
        ).fetchone()
        if row:
            snapshot_id = row[0]
        else:
            snapshot_id = self.db.execute(
                "INSERT INTO catalog_snapshots (category, digest, data, created_at) "
                "VALUES (?, ?, ?, ?)",
                [
                    category,
                    digest,
                    json.dumps(data, sort_keys=True, ensure_ascii=False),
                    self.store.now(),
                ],
            ).lastrowid
        self.db.execute(
            "UPDATE campaigns SET catalog_snapshot_id = ? WHERE id = ?", [snapshot_id, campaign_id]
        )
        return snapshot_id

    def catalog_digest(self, campaign_id: int) -> str | None:
        """The digest of the campaign's frozen catalog, or None before it opened."""
        row = self.db.execute(
            "SELECT s.digest FROM campaigns c JOIN catalog_snapshots s "
            "ON s.id = c.catalog_snapshot_id WHERE c.id = ?",
            [campaign_id],
        ).fetchone()
        return row[0] if row else None

    def catalog_data(self, campaign_id: int) -> dict | None:
        """The frozen catalog of a campaign as plain data, or None before it opened."""
        row = self.db.execute(
            "SELECT s.data FROM campaigns c JOIN catalog_snapshots s "
            "ON s.id = c.catalog_snapshot_id WHERE c.id = ?",
            [campaign_id],
        ).fetchone()
        return json.loads(row[0]) if row else None

    def _one(self, where: str, value) -> Campaign | None:
        rows = list(self.db["campaigns"].rows_where(where, [value]))
        return self._campaign(rows[0]) if rows else None

    @staticmethod
    def _campaign(row: dict) -> Campaign:
        return Campaign(
            id=row["id"],
            slug=row["slug"],
            category=row["category"],
            title=row["title"],
            currency=row["currency"],
            stages=tuple(json.loads(row["stages"])),
            settings=json.loads(row["settings"]),
            state=row["state"],
            catalog_frozen=row["catalog_snapshot_id"] is not None,
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
