"""Wishes: what consumers asked for, valid or not, with an event row per stored wish.

Configurations are stored as canonical JSON (catalog order, no spaces), so identical wishes have
identical text and collapse with ``GROUP BY configuration``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlite_utils.migrations import Migrations

from ..wishes.service import Wish
from .database import Area

migrations = Migrations("c2m.wishes")

COLUMNS = (
    "campaign_id",
    "customer",
    "configuration",
    "quantity",
    "region",
    "price_ceiling",
    "note",
    "raw",
    "external_id",
    "valid",
    "violations",
    "suggestion",
    "created_at",
)

WISHES_TABLE = """
CREATE TABLE {name} (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL {references},
    customer TEXT NOT NULL,
    configuration TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity >= 1),
    region TEXT,
    price_ceiling INTEGER CHECK (price_ceiling >= 0),
    note TEXT,
    raw TEXT,
    external_id TEXT,
    valid INTEGER NOT NULL,
    violations TEXT NOT NULL,
    suggestion TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (campaign_id, external_id)
)
"""

# New wishes append at the end of their (campaign, valid) range, so imports stay sequential
# writes; collapsing a million wishes is then one ordered scan (a second or two).
WISHES_INDEX = "CREATE INDEX {name}_demand ON {name} (campaign_id, valid)"


def wishes_schema(name: str = "wishes", references: bool = True) -> list[str]:
    """The wishes table and its index as SQL (the benchmark builds its floor table from it)."""
    refs = "REFERENCES campaigns (id)" if references else ""
    return [
        WISHES_TABLE.format(name=name, references=refs),
        WISHES_INDEX.format(name=name),
    ]


@migrations()
def m001_wishes(db):
    for statement in wishes_schema():
        db.execute(statement)


_INSERT = (
    f"INSERT INTO wishes ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)}) "
    "ON CONFLICT (campaign_id, external_id) DO NOTHING"
)

# One event per wish inserted by the batch, written by SQLite itself in the same transaction.
_EVENTS = """
INSERT INTO events (type, campaign_id, payload, created_at)
SELECT 'wish.submitted', campaign_id,
       json_object(
           'configuration', json(configuration),
           'customer', customer,
           'external_id', external_id,
           'quantity', quantity,
           'valid', json(CASE valid WHEN 1 THEN 'true' ELSE 'false' END),
           'wish_id', id
       ),
       created_at
FROM wishes WHERE id > ? ORDER BY id
"""

_SELECT = f"SELECT id, {', '.join(COLUMNS)} FROM wishes"


class WishStore(Area):
    name = "wishes"
    migrations = migrations

    def insert_many(self, rows: Sequence[tuple]) -> tuple[int, int]:
        """Insert rows (values in ``COLUMNS`` order) and an event for each one inserted.

        Rows whose external id the campaign already has are skipped. Runs in one transaction
        (joining the caller's); returns (highest id before, number inserted): the new wishes
        are exactly those with a greater id.
        """
        with self.store.transaction():
            conn = self.db.conn
            before = conn.execute("SELECT COALESCE(MAX(id), 0) FROM wishes").fetchone()[0]
            changes = conn.total_changes
            conn.executemany(_INSERT, rows)
            inserted = conn.total_changes - changes
            if inserted:
                conn.execute(_EVENTS, [before])
        return before, inserted

    def get(self, wish_id: int) -> Wish | None:
        row = self.db.execute(f"{_SELECT} WHERE id = ?", [wish_id]).fetchone()
        return _wish(row) if row else None

    def by_external_id(self, campaign_id: int, external_id: str) -> Wish | None:
        row = self.db.execute(
            f"{_SELECT} WHERE campaign_id = ? AND external_id = ?", [campaign_id, external_id]
        ).fetchone()
        return _wish(row) if row else None

    def after(self, campaign_id: int, wish_id: int, limit: int | None = None) -> list[Wish]:
        """The campaign's wishes with an id greater than ``wish_id``, oldest first."""
        sql = f"{_SELECT} WHERE campaign_id = ? AND id > ? ORDER BY id"
        params = [campaign_id, wish_id]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_wish(row) for row in self.db.execute(sql, params).fetchall()]

    def demand(self, campaign_id: int, valid: bool = True) -> list[tuple[str, int, int]]:
        """Identical wishes collapsed: (configuration JSON, wishes, total quantity), by text."""
        return self.db.execute(
            "SELECT configuration, COUNT(*), SUM(quantity) FROM wishes "
            "WHERE campaign_id = ? AND valid = ? GROUP BY configuration ORDER BY configuration",
            [campaign_id, int(valid)],
        ).fetchall()

    def violation_sets(self, campaign_id: int) -> list[tuple[str, int, int]]:
        """Invalid wishes collapsed by their violations: (violations JSON, wishes, quantity)."""
        return self.db.execute(
            "SELECT violations, COUNT(*), SUM(quantity) FROM wishes "
            "WHERE campaign_id = ? AND valid = 0 GROUP BY violations ORDER BY violations",
            [campaign_id],
        ).fetchall()

    def invalid_between(self, campaign_id: int, wish_id: int, count: int) -> int:
        """How many of the ``count`` wishes after ``wish_id`` are invalid."""
        return self.db.execute(
            "SELECT COUNT(*) FROM wishes WHERE campaign_id = ? AND id > ? AND id <= ? "
            "AND valid = 0",
            [campaign_id, wish_id, wish_id + count],
        ).fetchone()[0]

    def count(self, campaign_id: int) -> int:
        return self.db.execute(
            "SELECT COUNT(*) FROM wishes WHERE campaign_id = ?", [campaign_id]
        ).fetchone()[0]

    def customers(self, campaign_id: int) -> int:
        """How many distinct customer references wished (a campaign's participants)."""
        return self.db.execute(
            "SELECT COUNT(DISTINCT customer) FROM wishes WHERE campaign_id = ?", [campaign_id]
        ).fetchone()[0]

    def common_texts(
        self, campaign_id: int, field: str, limit: int
    ) -> tuple[int, list[tuple[str, int]]]:
        """Consumer text of one ``field`` (``note`` or ``raw``): (wishes that have it, the
        ``limit`` most frequent texts with their number of wishes, most frequent first)."""
        if field not in ("note", "raw"):
            raise ValueError(f"field must be 'note' or 'raw', got {field!r}")
        total = self.db.execute(
            f"SELECT COUNT(*) FROM wishes WHERE campaign_id = ? AND {field} IS NOT NULL",
            [campaign_id],
        ).fetchone()[0]
        common = self.db.execute(
            f"SELECT {field}, COUNT(*) AS n FROM wishes WHERE campaign_id = ? "
            f"AND {field} IS NOT NULL GROUP BY {field} ORDER BY n DESC, {field} LIMIT ?",
            [campaign_id, limit],
        ).fetchall()
        return total, [(text, n) for text, n in common]


def _wish(row) -> Wish:
    values = dict(zip(("id", *COLUMNS), row, strict=True))
    suggestion = values["suggestion"]
    return Wish(
        id=values["id"],
        campaign_id=values["campaign_id"],
        customer=values["customer"],
        configuration=json.loads(values["configuration"]),
        quantity=values["quantity"],
        region=values["region"],
        price_ceiling=values["price_ceiling"],
        note=values["note"],
        raw=values["raw"],
        external_id=values["external_id"],
        valid=bool(values["valid"]),
        violations=tuple(json.loads(values["violations"])),
        suggestion=json.loads(suggestion) if suggestion is not None else None,
        created_at=values["created_at"],
    )
