"""Wishes: what consumers asked for, valid or not, with an event row per stored wish.

Configurations are stored as compact JSON in the order given (the service gives catalog order),
so identical wishes have identical text and collapse with ``GROUP BY configuration``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, repeat
from operator import itemgetter, truth
from typing import cast

from sqlite_utils.migrations import Migrations

from ..variants.records import configuration_from_json
from ..wishes.records import (
    CommonTexts,
    DemandGroup,
    NewWish,
    NewWishes,
    ViolationGroup,
    Wish,
    WishBatch,
)
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


_SELECT = f"SELECT id, {', '.join(COLUMNS)} FROM wishes"
_ROW = f"({', '.join('?' for _ in COLUMNS)})"
#: The most rows per multi-row ``INSERT`` (each binds ``len(COLUMNS)`` parameters): a batch of
#: 5,000 wishes is written by as few statements as the backend's ``MAX_PARAMETERS`` allows
#: (SQLite: 2,520 rows each, so 2; PostgreSQL: 5,041, so 1).
INSERT_ROWS = 10_000
TEXT_FIELDS = ("note", "raw")
#: How many texts (of configurations, violations, suggestions) a store remembers by identity.
CONFIGURATIONS_KEPT = 100_000
#: The largest id SQLite gives a row by itself (past it, it picks unused ids at random).
MAX_ID = 2**63 - 1
#: Where ``NewWish`` holds whether the wish is valid.
VALID = NewWish._fields.index("valid")


class WishStore(Area):
    """Stored wishes, their demand and statistics (``interface.WishesArea``)."""

    name = "wishes"
    migrations = migrations

    def __init__(self, store):
        super().__init__(store)
        self._kept: dict = {}

    # Dialect-specific: the event payload of each stored wish, built by the database from the
    # row (SQLite's json_object; PostgreSQL uses json_build_object(...)::text). Only what a
    # shop acts on without a lookup: the wish's id, the customer and the shop's own id for it;
    # the wish itself is one ``get`` away, so an import does not write every row twice.
    EVENT_PAYLOAD = "json_object('customer', customer, 'external_id', external_id, 'wish_id', id)"

    def insert_batch(
        self, campaign_id: int, wishes: Sequence[Wish | NewWish], state: str
    ) -> WishBatch | None:
        """Store ``wishes`` and a ``wish.submitted`` event for each one stored, atomically.

        Only while the campaign is in ``state``: the campaign row is read with a shared lock
        in the same transaction, so a concurrent state change waits for the batch or the batch
        sees it; None (nothing stored) when the state differs. A wish whose external id the
        campaign has already (stored before, by a concurrent writer, or earlier in the batch)
        is skipped by the unique constraint. Where the store's inserted rows take the ids after
        the largest (``Store.SEQUENTIAL_IDS``) the ids are counted, not read back; elsewhere
        they come from ``RETURNING``.
        """
        with self.store.transaction():
            if (
                self.query_one(
                    f"SELECT 1 FROM campaigns WHERE id = ? AND state = ?{self.store.FOR_SHARE}",
                    [campaign_id, state],
                )
                is None
            ):
                return None
            if isinstance(wishes, NewWishes):
                columns = wishes.columns
            else:
                news = [_new_wish(wish) for wish in wishes]
                columns = tuple(map(list, zip(*news, strict=True))) or NewWishes().columns
            count = len(columns[0])
            before = None
            if self.store.SEQUENTIAL_IDS:
                before = cast(tuple, self.query_one("SELECT COALESCE(MAX(id), 0) FROM wishes"))[0]
                if before + count > MAX_ID:  # past the largest id, ids are not sequential
                    before = None
            ids: Sequence[int]
            if before is not None:
                stored = sum(self._insert(campaign_id, columns, ""))
                ids = range(before + 1, before + stored + 1)
                if stored == count:
                    invalid = count - sum(map(truth, columns[VALID]))
                else:  # some external ids were known: count what was stored
                    invalid = cast(
                        tuple,
                        self.query_one(
                            "SELECT COUNT(*) FROM wishes WHERE id > ? AND valid = 0", [before]
                        ),
                    )[0]
            else:
                rows = list(
                    chain.from_iterable(self._insert(campaign_id, columns, " RETURNING id, valid"))
                )
                ids = sorted(map(itemgetter(0), rows))
                invalid = len(rows) - sum(map(truth, map(itemgetter(1), rows)))
            events = (
                "INSERT INTO events (type, campaign_id, payload, created_at) "
                f"SELECT 'wish.submitted', campaign_id, {self.EVENT_PAYLOAD}, created_at "
                "FROM wishes WHERE "
            )
            if ids and ids[-1] - ids[0] + 1 == len(ids):
                # The ids fill their range (the usual case: a batch is one insert run), so
                # the range holds exactly the wishes just stored: read as one range scan.
                self.execute(events + "id BETWEEN ? AND ? ORDER BY id", [ids[0], ids[-1]])
            else:
                for id_chunk in self._chunks(ids):
                    self.execute(
                        events + f"id IN ({', '.join('?' for _ in id_chunk)}) ORDER BY id",
                        id_chunk,
                    )
        return WishBatch(tuple(ids), invalid)

    def _insert(self, campaign_id: int, columns: Sequence[list], returning: str) -> Iterator:
        """Insert the wishes of ``columns`` (one list per field of ``NewWish``) by as few
        multi-row statements as the store binds; per statement, the rows ``returning`` reads
        (``RETURNING ...``) or, without it, how many it stored."""
        per_statement = max(1, min(INSERT_ROWS, self.store.MAX_PARAMETERS // len(COLUMNS)))
        now = self.now()
        for start in range(0, len(columns[0]), per_statement):
            (
                customers,
                configurations,
                quantities,
                regions,
                price_ceilings,
                notes,
                raws,
                external_ids,
                valids,
                violations,
                suggestions,
            ) = [column[start : start + per_statement] for column in columns]
            rows = len(customers)
            values: tuple[Iterable, ...] = (  # in the order of COLUMNS
                repeat(campaign_id, rows),
                customers,
                self._texts(configurations, _configuration_text),
                quantities,
                regions,
                price_ceilings,
                notes,
                raws,
                external_ids,
                map(int, map(truth, valids)),
                self._texts(violations, _violations_text),
                self._texts(suggestions, _suggestion_text),
                repeat(now, rows),
            )
            # the rows' parameters one after another: each column fills every len(COLUMNS)th
            params: list = [None] * (rows * len(COLUMNS))
            for at, column in zip(range(len(COLUMNS)), values, strict=True):
                params[at :: len(COLUMNS)] = column
            sql = (
                f"INSERT INTO wishes ({', '.join(COLUMNS)}) VALUES "
                + ", ".join([_ROW] * len(customers))
                + " ON CONFLICT (campaign_id, external_id) DO NOTHING"
            )
            yield self.query(sql + returning, params) if returning else self.execute(sql, params)

    def _texts(self, values: Sequence, encode) -> list[str | None]:
        """The JSON texts of ``values`` (configurations, violations or suggestions, each kind
        with its own ``encode``), remembered by identity across batches: the intake hands the
        ones of identical wishes as the same objects. The cache keeps each object alive, so
        its id is not reused while its text is remembered."""
        kept, texts = self._kept.setdefault(encode, ({}, {}))
        ids = list(map(id, values))
        try:  # the usual case: every object seen before
            return list(map(texts.__getitem__, ids))
        except KeyError:
            pass
        missing = set(ids).difference(texts)
        if len(texts) + len(missing) > CONFIGURATIONS_KEPT:
            kept.clear()
            texts.clear()
            missing = set(ids)
        for object_id, value in zip(ids, values, strict=True):
            if object_id in missing and object_id not in texts:
                kept[object_id] = value
                texts[object_id] = encode(value)
        return list(map(texts.__getitem__, ids))

    def _chunks(self, ids: Sequence[int]) -> Iterable[Sequence[int]]:
        size = self.store.MAX_PARAMETERS
        for start in range(0, len(ids), size):
            yield ids[start : start + size]

    def get(self, wish_id: int) -> Wish | None:
        row = self.query_one(f"{_SELECT} WHERE id = ?", [wish_id])
        return _wish(row) if row else None

    def get_many(self, wish_ids: Sequence[int]) -> list[Wish]:
        """The stored wishes among ``wish_ids``, by id."""
        found = []
        for chunk in self._chunks(list(wish_ids)):
            found += self.query(
                f"{_SELECT} WHERE id IN ({', '.join('?' for _ in chunk)})", list(chunk)
            )
        return [_wish(row) for row in sorted(found, key=lambda row: row[0])]

    def by_external_id(self, campaign_id: int, external_id: str) -> Wish | None:
        row = self.query_one(
            f"{_SELECT} WHERE campaign_id = ? AND external_id = ?", [campaign_id, external_id]
        )
        return _wish(row) if row else None

    def after(self, campaign_id: int, wish_id: int, limit: int | None = None) -> list[Wish]:
        """The campaign's wishes with an id greater than ``wish_id``, by id (a page)."""
        sql = f"{_SELECT} WHERE campaign_id = ? AND id > ? ORDER BY id"
        params = [campaign_id, wish_id]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_wish(row) for row in self.query(sql, params)]

    def recent(self, campaign_id: int, limit: int) -> list[Wish]:
        """The campaign's last ``limit`` wishes, newest first."""
        sql = f"{_SELECT} WHERE campaign_id = ? ORDER BY id DESC LIMIT ?"
        return [_wish(row) for row in self.query(sql, [campaign_id, limit])]

    def demand(self, campaign_id: int, valid: bool = True) -> list[DemandGroup]:
        """Identical wishes collapsed, ordered by their stored configuration text."""
        rows = self.query(
            "SELECT configuration, COUNT(*), SUM(quantity) FROM wishes "
            "WHERE campaign_id = ? AND valid = ? GROUP BY configuration ORDER BY configuration",
            [campaign_id, int(valid)],
        )
        return [
            DemandGroup(configuration_from_json(text), wishes, quantity)
            for text, wishes, quantity in rows
        ]

    def violation_sets(self, campaign_id: int) -> list[ViolationGroup]:
        """Invalid wishes collapsed by their violations."""
        rows = self.query(
            "SELECT violations, COUNT(*), SUM(quantity) FROM wishes "
            "WHERE campaign_id = ? AND valid = 0 GROUP BY violations ORDER BY violations",
            [campaign_id],
        )
        return [
            ViolationGroup(tuple(json.loads(text)), wishes, quantity)
            for text, wishes, quantity in rows
        ]

    def count(self, campaign_id: int) -> int:
        return self.query("SELECT COUNT(*) FROM wishes WHERE campaign_id = ?", [campaign_id])[0][0]

    def customers(self, campaign_id: int) -> int:
        """How many distinct customer references wished (a campaign's participants)."""
        return self.query(
            "SELECT COUNT(DISTINCT customer) FROM wishes WHERE campaign_id = ?", [campaign_id]
        )[0][0]

    def common_texts(self, campaign_id: int, field: str, limit: int) -> CommonTexts:
        """Consumer text of one ``field`` (``note`` or ``raw``) and its ``limit`` most
        frequent values."""
        if field not in TEXT_FIELDS:
            raise ValueError(f"field must be 'note' or 'raw', got {field!r}")
        total = self.query(
            f"SELECT COUNT(*) FROM wishes WHERE campaign_id = ? AND {field} IS NOT NULL",
            [campaign_id],
        )[0][0]
        common = self.query(
            f"SELECT {field}, COUNT(*) AS n FROM wishes WHERE campaign_id = ? "
            f"AND {field} IS NOT NULL GROUP BY {field} ORDER BY n DESC, {field} LIMIT ?",
            [campaign_id, limit],
        )
        return CommonTexts(total, tuple((text, n) for text, n in common))


def _new_wish(wish: Wish | NewWish) -> NewWish:
    """A wish record as the tuple ``insert_batch`` writes from."""
    if isinstance(wish, NewWish):
        return wish
    return NewWish(
        wish.customer,
        wish.configuration,
        wish.quantity,
        wish.region,
        wish.price_ceiling,
        wish.note,
        wish.raw,
        wish.external_id,
        wish.valid,
        wish.violations,
        wish.suggestion,
    )


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _configuration_text(configuration) -> str:
    return _COMPACT(dict(configuration))


_VIOLATIONS = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode
_SUGGESTION = json.JSONEncoder(ensure_ascii=False).encode


def _violations_text(violations) -> str:
    return _VIOLATIONS(violations) if violations else "[]"


def _suggestion_text(suggestion) -> str | None:
    return None if suggestion is None else _SUGGESTION(suggestion)


def _wish(row) -> Wish:
    values = dict(zip(("id", *COLUMNS), row, strict=True))
    suggestion = values["suggestion"]
    return Wish(
        id=values["id"],
        campaign_id=values["campaign_id"],
        customer=values["customer"],
        configuration=configuration_from_json(values["configuration"]),
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
