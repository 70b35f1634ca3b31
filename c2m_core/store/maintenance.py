"""Looking after a database: its schema version, its integrity, and moving it to PostgreSQL.

``schema_status`` and ``integrity_problems`` work on either backend; ``copy_to_postgres``
moves a SQLite file into an empty PostgreSQL database and proves the copy (``c2m db copy``).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable

import attrs
from sqlite_utils.migrations import Migrations

from .database import StoreError

#: Rows read and written per batch while copying.
BATCH = 5000


@attrs.frozen
class SchemaStatus:
    """Which named migrations a database has, and which this c2m would still apply."""

    backend: str
    applied: tuple[str, ...]
    pending: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def version(self) -> str:
        """The newest applied migration of each set, e.g. ``c2m.pledges:m003_held``."""
        newest: dict[str, str] = {}
        for name in self.applied:
            migration_set, migration = name.split(":", 1)
            newest[migration_set] = migration
        return ", ".join(f"{s}:{m}" for s, m in sorted(newest.items()))

    def to_dict(self) -> dict:
        return {**attrs.asdict(self), "version": self.version}


@attrs.frozen
class TableCopy:
    """One table of a copy: rows on each side and the checksum both sides agree on."""

    table: str
    rows: int
    checksum: str

    def to_dict(self) -> dict:
        return attrs.asdict(self)


def backend(store) -> str:
    return getattr(store, "backend", "sqlite")


def _sets(store) -> list[Migrations]:
    from .database import migrations as core

    return [core] + [area.migrations for area in store._areas]


def schema_status(store) -> SchemaStatus:
    """The migrations ``store`` has applied, those pending, and any this c2m does not know."""
    known = [(s.name, m.name) for s in _sets(store) for m in s._migrations]
    if backend(store) == "postgresql":
        applied = [(s, n) for s, n, _ in store.applied_migrations()]
    else:
        table = store.db[Migrations.migrations_table]
        applied = (
            [(r["migration_set"], r["name"]) for r in table.rows_where(order_by="id")]
            if table.exists()
            else []
        )
    done = set(applied)
    return SchemaStatus(
        backend=backend(store),
        applied=tuple(f"{s}:{n}" for s, n in applied),
        pending=tuple(f"{s}:{n}" for s, n in known if (s, n) not in done),
        unknown=tuple(f"{s}:{n}" for s, n in applied if (s, n) not in set(known)),
    )


def integrity_problems(store) -> list[str]:
    """What is wrong with the database's storage and references; empty when it is sound.

    SQLite: ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check``. PostgreSQL checks
    pages and references as it writes; here it is asked for constraints left invalid
    (``NOT VALID``) and indexes left invalid by an interrupted build. Areas that keep derived
    figures (counters beside the rows they count) add theirs through a ``check()`` method.
    """
    problems = []
    if backend(store) == "postgresql":
        for (name,) in store.query(
            "SELECT conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = current_schema() AND NOT c.convalidated"
        ):
            problems.append(f"constraint {name} is not validated")
        for (name,) in store.query(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND NOT i.indisvalid"
        ):
            problems.append(f"index {name} is invalid (rebuild it with REINDEX)")
    else:
        conn = store.db.conn
        for (message,) in conn.execute("PRAGMA integrity_check").fetchall():
            if message != "ok":
                problems.append(f"integrity: {message}")
        for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check").fetchall():
            problems.append(f"{table} row {rowid} refers to a missing {parent} row")
    for area in store._areas:
        check = getattr(area, "check", None)
        if check is not None:
            problems.extend(check())
    return problems


# -- copying a SQLite file into PostgreSQL ------------------------------------------------------


def sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    """The tables to copy, parents before the tables that refer to them."""
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != ? ORDER BY name",
            [Migrations.migrations_table],
        )
    ]
    parents = {
        name: {
            row[2] for row in conn.execute(f'PRAGMA foreign_key_list("{name}")') if row[2] != name
        }
        for name in names
    }
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and parents[n] <= set(ordered)]
        if not ready:
            raise StoreError(f"tables refer to each other in a cycle: {sorted(parents)}")
        ordered.extend(ready)
    return ordered


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]


def _row_digest(row) -> int:
    text = json.dumps(
        [v.hex() if isinstance(v, bytes | bytearray | memoryview) else v for v in row],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")


class _Checksum:
    """An order-independent checksum of a table's rows (the sum of their SHA-256s)."""

    def __init__(self):
        self.total = 0
        self.rows = 0

    def add(self, row) -> None:
        self.total = (self.total + _row_digest(row)) % (1 << 256)
        self.rows += 1

    def hexdigest(self) -> str:
        return f"{self.total:064x}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def copy_to_postgres(
    source, target, progress: Callable[[str, int], None] | None = None
) -> list[TableCopy]:
    """Copy every table of the SQLite store ``source`` into the PostgreSQL store ``target``.

    Refuses a target that already holds rows, or whose migrations differ from the source's.
    Runs in one PostgreSQL transaction: rows go in with ``COPY``, keeping their ids; identity
    counters then continue after the highest id; every table is read back and its row count
    and checksum compared with the source's. Any difference rolls the whole copy back, so the
    target is either an exact copy or left empty. ``progress(table, rows)`` is called per batch.
    """
    if backend(source) != "sqlite" or backend(target) != "postgresql":
        raise StoreError("c2m db copy copies a SQLite file into a PostgreSQL database")
    source_schema, target_schema = schema_status(source), schema_status(target)
    if source_schema.pending or source_schema.unknown:
        raise StoreError(
            f"the source has migrations pending ({', '.join(source_schema.pending)}) or "
            f"unknown ({', '.join(source_schema.unknown)}); open it with this c2m first"
        )
    if set(source_schema.applied) != set(target_schema.applied):
        raise StoreError("source and target are at different schema versions")
    conn = source.db.conn
    tables = sqlite_tables(conn)
    target_tables = {
        row[0]
        for row in target.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    }
    missing = [t for t in tables if t not in target_tables]
    if missing:
        raise StoreError(f"the target has no table {', '.join(missing)}")
    for table in tables:
        if target.query_one(f"SELECT 1 FROM {_quote(table)} LIMIT 1"):
            raise StoreError(
                f"the target is not empty (table {table} has rows); c2m db copy only fills "
                "an empty, migrated database"
            )
    results = []
    pg = target.conn
    with target.transaction():
        target._begin_now()  # COPY runs on the connection itself, inside this transaction
        for table in tables:
            columns = _columns(conn, table)
            column_list = ", ".join(_quote(c) for c in columns)
            source_sum = _Checksum()
            cursor = conn.execute(f"SELECT {column_list} FROM {_quote(table)}")
            with (
                pg.cursor() as pg_cursor,
                pg_cursor.copy(f"COPY {_quote(table)} ({column_list}) FROM STDIN") as copy,
            ):
                while batch := cursor.fetchmany(BATCH):
                    for row in batch:
                        source_sum.add(row)
                        copy.write_row(row)
                    if progress:
                        progress(table, len(batch))
            if "id" in columns:
                sequence = target.query_one("SELECT pg_get_serial_sequence(?, 'id')", [table])
                if sequence and sequence[0]:
                    target.query_one(
                        f"SELECT setval(?, COALESCE((SELECT MAX(id) FROM {_quote(table)}), 0) + 1,"
                        " false)",
                        [sequence[0]],
                    )
            target_sum = _Checksum()
            with pg.cursor(name=f"verify_{table}") as reader:
                reader.execute(f"SELECT {column_list} FROM {_quote(table)}")
                while batch := reader.fetchmany(BATCH):
                    for row in batch:
                        target_sum.add(row)
            if (source_sum.rows, source_sum.hexdigest()) != (
                target_sum.rows,
                target_sum.hexdigest(),
            ):
                raise StoreError(
                    f"table {table} differs after the copy ({source_sum.rows} rows in the "
                    f"source, {target_sum.rows} in the target, or their checksums differ); "
                    "nothing was copied"
                )
            results.append(TableCopy(table, source_sum.rows, source_sum.hexdigest()))
        _check_event_ids(target)
    return results


def _check_event_ids(target) -> None:
    """Copied events keep their ids; they must stay below the ids PostgreSQL gives new ones."""
    from .postgres import EVENT_BITS

    highest = target.query_one("SELECT COALESCE(MAX(id), 0) FROM events")[0]
    first_new = target.query_one("SELECT pg_current_xact_id()::text::bigint")[0] << EVENT_BITS
    if highest >= first_new:
        raise StoreError(
            f"the source has event ids up to {highest}, above the first id PostgreSQL would "
            f"give a new event ({first_new}); nothing was copied"
        )
