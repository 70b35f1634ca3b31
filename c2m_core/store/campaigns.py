"""Campaigns and their frozen catalog snapshots."""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlite_utils.migrations import Migrations

from ..campaigns.records import CLOSED, Campaign
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


_COLUMNS = (
    "id, slug, category, title, currency, stages, settings, state, catalog_snapshot_id, "
    "created_at, updated_at"
)


def _settings_text(settings: Mapping) -> str:
    return json.dumps(dict(settings), sort_keys=True)


class CampaignStore(Area):
    """Campaigns and their catalog snapshots (``interface.CampaignsArea``)."""

    name = "campaigns"
    migrations = migrations

    def insert(self, campaign: Campaign) -> Campaign | None:
        """Insert a new campaign; None when its slug is taken (a unique constraint)."""
        now = self.now()
        campaign_id = self.insert_returning(
            "INSERT INTO campaigns (slug, category, title, currency, stages, settings, state, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (slug) DO NOTHING RETURNING id",
            [
                campaign.slug,
                campaign.category,
                campaign.title,
                campaign.currency,
                json.dumps(list(campaign.stages)),
                _settings_text(campaign.settings),
                campaign.state,
                now,
                now,
            ],
        )
        return None if campaign_id is None else self.get_by_id(campaign_id)

    def get(self, slug: str) -> Campaign | None:
        return self._one("slug = ?", slug)

    def get_by_id(self, campaign_id: int) -> Campaign | None:
        return self._one("id = ?", campaign_id)

    def all(self) -> list[Campaign]:
        return [
            self._campaign(row)
            for row in self.query(f"SELECT {_COLUMNS} FROM campaigns ORDER BY id")
        ]

    def set_state(self, campaign_id: int, old: str, new: str) -> bool:
        """Move ``old`` -> ``new`` in one conditional update; False when it was not ``old``."""
        return (
            self.execute(
                "UPDATE campaigns SET state = ?, updated_at = ? WHERE id = ? AND state = ?",
                [new, self.now(), campaign_id, old],
            )
            == 1
        )

    def update_settings(self, campaign_id: int, expected: Mapping, settings: Mapping) -> bool:
        """Replace the settings if they are still ``expected`` and the campaign is not closed."""
        return (
            self.execute(
                "UPDATE campaigns SET settings = ?, updated_at = ? "
                "WHERE id = ? AND settings = ? AND state <> ?",
                [
                    _settings_text(settings),
                    self.now(),
                    campaign_id,
                    _settings_text(expected),
                    CLOSED,
                ],
            )
            == 1
        )

    def freeze_catalog(self, campaign_id: int, category: str, digest: str, data: dict) -> None:
        """Attach a catalog snapshot (one row per digest, shared between campaigns)."""
        self.execute(
            "INSERT INTO catalog_snapshots (category, digest, data, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING",
            [category, digest, json.dumps(data, sort_keys=True, ensure_ascii=False), self.now()],
        )
        self.execute(
            "UPDATE campaigns SET catalog_snapshot_id = "
            "(SELECT id FROM catalog_snapshots WHERE digest = ?) WHERE id = ?",
            [digest, campaign_id],
        )

    def catalog_digest(self, campaign_id: int) -> str | None:
        row = self.query_one(
            "SELECT s.digest FROM campaigns c JOIN catalog_snapshots s "
            "ON s.id = c.catalog_snapshot_id WHERE c.id = ?",
            [campaign_id],
        )
        return row[0] if row else None

    def catalog_data(self, campaign_id: int) -> dict | None:
        row = self.query_one(
            "SELECT s.data FROM campaigns c JOIN catalog_snapshots s "
            "ON s.id = c.catalog_snapshot_id WHERE c.id = ?",
            [campaign_id],
        )
        return json.loads(row[0]) if row else None

    def _one(self, where: str, value) -> Campaign | None:
        row = self.query_one(f"SELECT {_COLUMNS} FROM campaigns WHERE {where}", [value])
        return self._campaign(row) if row else None

    @staticmethod
    def _campaign(row: tuple) -> Campaign:
        (
            ident,
            slug,
            category,
            title,
            currency,
            stages,
            settings,
            state,
            snapshot,
            created,
            updated,
        ) = row
        return Campaign(
            id=ident,
            slug=slug,
            category=category,
            title=title,
            currency=currency,
            stages=tuple(json.loads(stages)),
            settings=json.loads(settings),
            state=state,
            catalog_frozen=snapshot is not None,
            created_at=created,
            updated_at=updated,
        )
