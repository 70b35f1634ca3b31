"""Variants: complete configurations a campaign may vote on, pre-sell and produce."""

from __future__ import annotations

import json

from sqlite_utils.migrations import Migrations

from ..variants.records import Variant, configuration_from_json
from .database import Area, StoreError

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


@migrations()
def m002_distinct_positions(db):
    # Two concurrent appends cannot take one position: the database refuses the second.
    db.execute("CREATE UNIQUE INDEX variants_position ON variants (campaign_id, position)")


_COLUMNS = (
    "id, campaign_id, key, name, configuration, source, covered_quantity, position, withdrawn"
)
#: How often ``insert`` tries again when a concurrent writer took the next position first.
APPEND_ATTEMPTS = 100


class VariantStore(Area):
    """A campaign's variants in position order (``interface.VariantsArea``)."""

    name = "variants"
    migrations = migrations

    def insert(self, variant: Variant) -> Variant | None:
        """Append a variant at the campaign's next position; None when its key is there already.

        One ``INSERT ... SELECT MAX(position) + 1``; the unique (campaign, key) and (campaign,
        position) constraints make a concurrent append either lose the key (None) or the
        position (tried again with the next one).
        """
        params = [
            variant.campaign_id,
            variant.key,
            variant.name,
            json.dumps(dict(variant.configuration), ensure_ascii=False),
            variant.source,
            variant.covered_quantity,
            self.now(),
            variant.campaign_id,
        ]
        for _ in range(APPEND_ATTEMPTS):
            variant_id = self.insert_returning(
                "INSERT INTO variants (campaign_id, key, name, configuration, source, "
                "covered_quantity, created_at, position) "
                "SELECT ?, ?, ?, ?, ?, ?, ?, COALESCE(MAX(position), 0) + 1 FROM variants "
                "WHERE campaign_id = ? ON CONFLICT DO NOTHING RETURNING id",
                params,
            )
            if variant_id is not None:
                return self.get(variant_id)
            if self.by_key(variant.campaign_id, variant.key) is not None:
                return None
        raise StoreError(
            f"could not append variant {variant.key!r}: the next position was taken "
            f"{APPEND_ATTEMPTS} times in a row"
        )

    def get(self, variant_id: int) -> Variant | None:
        row = self.query_one(f"SELECT {_COLUMNS} FROM variants WHERE id = ?", [variant_id])
        return self._variant(row) if row else None

    def by_key(self, campaign_id: int, key: str) -> Variant | None:
        row = self.query_one(
            f"SELECT {_COLUMNS} FROM variants WHERE campaign_id = ? AND key = ?",
            [campaign_id, key],
        )
        return self._variant(row) if row else None

    def for_campaign(self, campaign_id: int, include_withdrawn: bool = False) -> list[Variant]:
        where = "campaign_id = ?" + ("" if include_withdrawn else " AND withdrawn = 0")
        rows = self.query(
            f"SELECT {_COLUMNS} FROM variants WHERE {where} ORDER BY position", [campaign_id]
        )
        return [self._variant(row) for row in rows]

    def set_withdrawn(self, variant_id: int, withdrawn: bool) -> bool:
        """Withdraw (or restore) a variant; False when there is no such variant."""
        return (
            self.execute(
                "UPDATE variants SET withdrawn = ? WHERE id = ?", [int(withdrawn), variant_id]
            )
            == 1
        )

    def delete_by_source(self, campaign_id: int, source: str) -> list[Variant]:
        """Remove the campaign's variants from ``source``; returns what was removed."""
        rows = self.query(
            f"DELETE FROM variants WHERE campaign_id = ? AND source = ? RETURNING {_COLUMNS}",
            [campaign_id, source],
        )
        return sorted((self._variant(row) for row in rows), key=lambda v: v.position)

    def set_covered(self, variant_id: int, covered_quantity: int) -> bool:
        """Record the wished quantity a variant covers; False when there is no such variant."""
        return (
            self.execute(
                "UPDATE variants SET covered_quantity = ? WHERE id = ?",
                [covered_quantity, variant_id],
            )
            == 1
        )

    @staticmethod
    def _variant(row: tuple) -> Variant:
        ident, campaign_id, key, name, configuration, source, covered, position, withdrawn = row
        return Variant(
            id=ident,
            campaign_id=campaign_id,
            key=key,
            name=name,
            configuration=configuration_from_json(configuration),
            source=source,
            covered_quantity=covered,
            position=position,
            withdrawn=bool(withdrawn),
        )
