"""Personalisation: checked uploads (their metadata; the bytes live in the files folder) and the
values a wish or a pledge carries per unit.

Portable SQL only (the dialect seam), so SQLite and PostgreSQL run the same statements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlite_utils.migrations import Migrations

from ..personalisation.records import OWNERS, Upload
from .database import Area

migrations = Migrations("c2m.personalisation")


@migrations()
def m001_personalisation(db):
    db.execute(
        """
        CREATE TABLE uploads (
            sha256 TEXT PRIMARY KEY,
            media_type TEXT NOT NULL,
            size INTEGER NOT NULL CHECK (size > 0),
            width INTEGER NOT NULL CHECK (width > 0),
            height INTEGER NOT NULL CHECK (height > 0),
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE unit_personalisation (
            owner TEXT NOT NULL CHECK (owner IN ('wish', 'pledge')),
            owner_id INTEGER NOT NULL,
            unit INTEGER NOT NULL CHECK (unit >= 1),
            field TEXT NOT NULL,
            value TEXT NOT NULL,
            campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
            PRIMARY KEY (owner, owner_id, unit, field)
        )
        """
    )


class PersonalisationStore(Area):
    """Uploads and per-unit values (``interface.PersonalisationArea``)."""

    name = "personalisation"
    migrations = migrations

    def add_upload(self, upload: Upload) -> Upload | None:
        """Record a checked upload and return it as stored; None, with nothing changed, when
        an upload with this sha256 is recorded already (a primary key: of concurrent writers
        of one sha256 exactly one records it)."""
        inserted = self.insert_returning(
            "INSERT INTO uploads (sha256, media_type, size, width, height, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING RETURNING sha256",
            [upload.sha256, upload.media_type, upload.size, upload.width, upload.height,
             self.now()],
        )  # fmt: skip
        return None if inserted is None else self.upload(upload.sha256)

    def upload(self, sha256: str) -> Upload | None:
        """The upload with this sha256, or None."""
        row = self.query_one(
            "SELECT sha256, media_type, size, width, height, created_at FROM uploads "
            "WHERE sha256 = ?",
            [sha256],
        )
        return Upload(*row) if row else None

    def insert_units(
        self,
        owner: str,
        owner_id: int,
        campaign_id: int,
        units: Sequence[Mapping[str, str]],
    ) -> None:
        """Store ``units`` (unit 1 first; an empty mapping: that unit is not personalised) for
        one wish or pledge; call in the transaction that stores the owner."""
        if owner not in OWNERS:
            raise ValueError(f"owner must be one of {', '.join(OWNERS)}, got {owner!r}")
        rows = [
            (owner, owner_id, unit, field, value, campaign_id)
            for unit, values in enumerate(units, 1)
            for field, value in values.items()
        ]
        if rows:
            self.executemany(
                "INSERT INTO unit_personalisation (owner, owner_id, unit, field, value, "
                "campaign_id) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def units(self, owner: str, owner_ids: Sequence[int]) -> dict[int, tuple[dict[str, str], ...]]:
        """owner id -> its units' values (unit 1 first, ``{}`` for a unit without any), for the
        owners among ``owner_ids`` that have some."""
        found: dict[int, dict[int, dict[str, str]]] = {}
        ids = list(dict.fromkeys(owner_ids))
        size = max(1, self.store.MAX_PARAMETERS - 1)
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            rows = self.query(
                "SELECT owner_id, unit, field, value FROM unit_personalisation WHERE owner = ? "
                f"AND owner_id IN ({', '.join('?' for _ in chunk)}) "
                "ORDER BY owner_id, unit, field",
                [owner, *chunk],
            )
            for owner_id, unit, field, value in rows:
                found.setdefault(owner_id, {}).setdefault(unit, {})[field] = value
        return {
            owner_id: tuple(units.get(n, {}) for n in range(1, max(units) + 1))
            for owner_id, units in found.items()
        }
