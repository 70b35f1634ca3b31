"""Variants: complete configurations a campaign may vote on, pre-sell and produce."""

from __future__ import annotations

import json

from sqlite_utils.migrations import Migrations

from ..variants import Variant
from .database import Area

migrations = Migrations("c2m.variants")


@migrations()
def m001_variants(db):
    db.execute(
        """
        CREATE TABLE variants (
            id INTEGER PRIMARY KEY,
            campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
            key TEXT NOT NULL,
            name TEXT NOT NULL,
            configuration TEXT NOT NULL,
            source TEXT NOT NULL,
            covered_quantity INTEGER NOT NULL DEFAULT 0,
            position INTEGER NOT NULL,
            withdrawn INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            UNIQUE (campaign_id, key)
        )
        """
    )


class VariantStore(Area):
    name = "variants"
    migrations = migrations

    def insert(self, variant: Variant) -> Variant:
        """Insert a variant at the end of the campaign's order."""
        position = self.db.execute(
            "SELECT COALESCE(MAX(position), 0) + 1 FROM variants WHERE campaign_id = ?",
            [variant.campaign_id],
        ).fetchone()[0]
        cursor = self.db.execute(
            "INSERT INTO variants (campaign_id, key, name, configuration, source, "
            "covered_quantity, position, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                variant.campaign_id,
                variant.key,
                variant.name,
                json.dumps(variant.configuration, ensure_ascii=False),
                variant.source,
                variant.covered_quantity,
                position,
                self.store.now(),
            ],
        )
        return self.get(cursor.lastrowid)

    def get(self, variant_id: int) -> Variant | None:
        rows = list(self.db["variants"].rows_where("id = ?", [variant_id]))
        return self._variant(rows[0]) if rows else None

    def by_key(self, campaign_id: int, key: str) -> Variant | None:
        rows = list(
            self.db["variants"].rows_where("campaign_id = ? AND key = ?", [campaign_id, key])
        )
        return self._variant(rows[0]) if rows else None

    def for_campaign(self, campaign_id: int, include_withdrawn: bool = False) -> list[Variant]:
        where = "campaign_id = ?" + ("" if include_withdrawn else " AND withdrawn = 0")
        return [
            self._variant(row)
            for row in self.db["variants"].rows_where(where, [campaign_id], order_by="position")
        ]

    def set_withdrawn(self, variant_id: int, withdrawn: bool) -> None:
        self.db.execute(
            "UPDATE variants SET withdrawn = ? WHERE id = ?", [int(withdrawn), variant_id]
        )

    def delete_by_source(self, campaign_id: int, source: str) -> list[Variant]:
        """Remove the campaign's variants from ``source``; returns what was removed."""
        removed = [
            self._variant(row)
            for row in self.db["variants"].rows_where(
                "campaign_id = ? AND source = ?", [campaign_id, source], order_by="position"
            )
        ]
        self.db.execute(
            "DELETE FROM variants WHERE campaign_id = ? AND source = ?", [campaign_id, source]
        )
        return removed

    def set_covered(self, variant_id: int, covered_quantity: int) -> None:
        self.db.execute(
            "UPDATE variants SET covered_quantity = ? WHERE id = ?", [covered_quantity, variant_id]
        )

    @staticmethod
    def _variant(row: dict) -> Variant:
        return Variant(
            id=row["id"],
            campaign_id=row["campaign_id"],
            key=row["key"],
            name=row["name"],
            configuration=json.loads(row["configuration"]),
            source=row["source"],
            covered_quantity=row["covered_quantity"],
            position=row["position"],
            withdrawn=bool(row["withdrawn"]),
        )
