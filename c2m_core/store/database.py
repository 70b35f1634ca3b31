"""The embedded SQLite store: one file, WAL, a busy timeout, foreign keys, migrations, events.

Each stage keeps its tables in an *area* (a module of this package with its own sqlite-utils
``Migrations`` set and its named operations, described by the Protocols of ``interface.py``).
Services never see SQL: they call the areas' methods with records. Every write runs in
``Store.transaction()`` (``BEGIN IMMEDIATE``) together with the event row that records it.

**The dialect seam.** Areas run SQL only through a few methods of ``Store`` (and their ``Area``
shortcuts): ``execute``, ``execute_later``, ``executemany``, ``query``, ``query_one``,
``queries`` and ``insert_returning``, with ``?`` placeholders and SQL that PostgreSQL accepts
too (standard types, ``ON CONFLICT ... DO``, ``RETURNING``, JSON kept as TEXT). Where the
backends differ the difference is a named attribute of the store: ``FOR_SHARE`` and
``FOR_UPDATE`` (row-lock suffixes for a ``SELECT``; empty here because ``BEGIN IMMEDIATE``
already serialises writers), ``MAX_PARAMETERS`` (how many ``?`` one statement may bind),
``next_id`` (the id a table's next row gets, for writes that number rows before inserting them),
``SEQUENTIAL_IDS`` (whether a writer's inserted rows take the ids after the largest) and
``UniqueViolation``. A second backend subclasses ``Store``, overrides these methods and
attributes, and reuses every area unchanged, apart from the few statements an area marks as
dialect-specific.

What must wait for the commit (notifications to plugins, calls to a payment provider) is queued
with ``Store.after_commit``; see ``docs/transactions.md``.
"""

from __future__ import annotations

import datetime
import json
import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from ..errors import C2MError
from .records import Event

BUSY_TIMEOUT_MS = 30_000
#: An event's payload as stored: ``json.dumps(payload, sort_keys=True, ensure_ascii=False)``,
#: with one encoder made once instead of one per call.
_payload_json = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode

migrations = Migrations("c2m.core")


@migrations()
def m001_events(db) -> None:
    db.execute(
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            type TEXT NOT NULL,
            campaign_id INTEGER,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX events_campaign ON events (campaign_id, id)")


@migrations()
def m002_event_ids(db) -> None:
    """Nothing on SQLite, which numbers events itself; on PostgreSQL the function that numbers
    them is made cheaper (``postgres.m002_event_ids``): the same migrations on both, so that
    ``c2m db copy`` finds them at the same version."""


class StoreError(C2MError):
    """The database cannot be used (made by a newer c2m, unreadable, locked for too long)."""

    kind = "unavailable"


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def isoformat(moment: datetime.datetime) -> str:
    """UTC ISO 8601 with microseconds, so text order is time order."""
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")


class Later:
    """The rows of a statement sent with a later round trip (``Store.query_later``): None until
    that round trip was answered without error."""

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: list[tuple] | None = None


class Refused(Exception):
    """What a guarded write raises when it changed no row and so refuses its transaction (on
    PostgreSQL ``c2m_changed``, for ``PresaleStore.reserve_known``; never on SQLite); the
    transaction then rolls back."""


class Area:
    """Base of a store area: a group of tables with its migrations and named operations.

    An area runs SQL only through the shortcuts below (the dialect seam of ``Store``), and so
    do its migrations: each migration function is called with the store, and runs its DDL with
    ``store.execute`` (PostgreSQL translates SQLite's column types). ``tests/test_store_seam.py``
    fails when an area reaches past the seam.
    """

    name: str
    migrations: Migrations

    def __init__(self, store: Store):
        self.store = store

    def event(self, type: str, campaign_id: int | None, payload: dict) -> int:
        return self.store.event(type, campaign_id, payload)

    def execute(self, sql: str, params: Sequence = ()) -> int:
        return self.store.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence]) -> int:
        return self.store.executemany(sql, rows)

    def execute_later(self, sql: str, params: Sequence = ()) -> None:
        self.store.execute_later(sql, params)

    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        return self.store.query(sql, params)

    def query_later(self, sql: str, params: Sequence = ()) -> Later:
        return self.store.query_later(sql, params)

    def query_one(self, sql: str, params: Sequence = ()) -> tuple | None:
        return self.store.query_one(sql, params)

    def queries(self, statements: Sequence[tuple[str, Sequence]]) -> list[list[tuple]]:
        return self.store.queries(statements)

    def insert_returning(self, sql: str, params: Sequence = ()):
        return self.store.insert_returning(sql, params)

    def now(self) -> str:
        return self.store.now()


class AfterCommitQueue:
    """The after-commit queue every store implementation shares (see ``after_commit``)."""

    _after_commit: list[Callable[[], object]]

    @property
    def in_transaction(self) -> bool:
        """True while a transaction is open (not yet committed); each implementation says how."""
        raise NotImplementedError

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` once the outermost open transaction commits; now when none is open.

        Callbacks run in the order they were queued, after ``COMMIT`` returned, outside any
        transaction (so they may open their own). A rollback drops them: nothing is ever said
        about a change that did not happen. Every callback runs even when an earlier one raises;
        the first exception is raised afterwards (the change stays committed).
        """
        if not self.in_transaction:
            callback()
            return
        self._after_commit.append(callback)

    def _run_after_commit(self) -> None:
        callbacks, self._after_commit = self._after_commit, []
        first_error: BaseException | None = None
        for callback in callbacks:
            try:
                callback()
            except Exception as ex:
                if first_error is None:
                    first_error = ex
        if first_error is not None:
            raise first_error


class Store(AfterCommitQueue):
    """One SQLite database file shared safely by several processes.

    Implements ``interface.Store``: transactions, the event log and one attribute per area.

    :param path: the database file (``":memory:"`` for a private in-memory one)
    :param areas: the area classes whose migrations to apply and operations to expose
    :param clock: returns the current UTC time (tests pass a fixed clock)
    """

    #: Appended to a ``SELECT`` that must lock the rows it reads until commit (shared / for
    #: update). Empty for SQLite: ``BEGIN IMMEDIATE`` holds the one write lock already.
    FOR_SHARE = ""
    FOR_UPDATE = ""
    #: The most ``?`` parameters one statement may bind (SQLite >= 3.32 allows 32,766).
    MAX_PARAMETERS = 32_766
    #: True when the rows an ``INSERT`` adds without ids take, one after another, the ids
    #: after the table's largest (SQLite's ``INTEGER PRIMARY KEY`` below its largest value;
    #: ``BEGIN IMMEDIATE`` lets no other writer in): an area may then count the rows it
    #: inserted instead of reading their ids back with ``RETURNING``. False where ids come
    #: from a sequence other writers draw from at the same time (PostgreSQL).
    SEQUENTIAL_IDS = True
    #: What a statement that breaks a unique key raises (a writer that lost a race to insert
    #: the same key; with ``execute_later`` it is raised at the next round trip).
    UniqueViolation: type[Exception] = sqlite3.IntegrityError
    #: What a guarded write that changed no row raises (``Refused``; this backend's own class).
    Refused: type[Exception] = Refused

    def __init__(self, path, areas=(), clock: Callable[[], datetime.datetime] = utc_now):
        self.path = str(path)
        self.clock = clock
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            self.db = Database(conn, execute_plugins=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
                # A commit is on disk when it returns. With NORMAL, WAL mode may lose the last
                # commits to a power cut, and a payment intent committed before its provider is
                # called must not be one of them (docs/transactions.md).
                conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as ex:
            raise StoreError(f"cannot open database {self.path}: {ex}") from ex
        self._after_commit: list[Callable[[], object]] = []
        self._areas = [area(self) for area in areas]
        for area in self._areas:
            setattr(self, area.name, area)
        self.migrate()

    def migrate(self) -> None:
        """Apply pending migrations of every area; refuse a database made by a newer c2m."""
        sets = [migrations] + [area.migrations for area in self._areas]
        known = {(s.name, m.name) for s in sets for m in s._migrations}
        table = self.db[Migrations.migrations_table]
        if table.exists():
            unknown = [
                f"{row['migration_set']}:{row['name']}"
                for row in table.rows
                if row["migration_set"].startswith("c2m.")
                and (row["migration_set"], row["name"]) not in known
            ]
            if unknown:
                raise StoreError(
                    f"database {self.path} was made by a newer c2m (it has migrations this "
                    f"version does not know: {', '.join(unknown)}); upgrade c2m to use it"
                )
        if not any(s.pending(self.db) for s in sets):
            return
        with self.transaction():
            for migration_set in sets:
                migration_set.ensure_migrations_table(self.db)
                for migration in migration_set.pending(self.db):
                    migration.fn(self)
                    self.execute(
                        f"INSERT INTO {Migrations.migrations_table} (migration_set, name, "
                        "applied_at) VALUES (?, ?, ?)",
                        [migration_set.name, migration.name, str(utc_now())],
                    )

    @property
    def in_transaction(self) -> bool:
        """True while a transaction of this store's connection is open (not yet committed)."""
        return self.db.conn.in_transaction

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """A write transaction taken with ``BEGIN IMMEDIATE`` (nested calls join the outer one).

        Taking the write lock up front means a read inside the block sees the latest committed
        state and nothing can change it before the block commits: recount, then write. When the
        outermost block commits, the callbacks queued with ``after_commit`` run; when it rolls
        back, they are dropped.
        """
        conn = self.db.conn
        if conn.in_transaction:
            yield self
            return
        self._after_commit.clear()
        self._begin_immediate()
        try:
            yield self
        except BaseException:
            self._after_commit.clear()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            self._after_commit.clear()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._run_after_commit()

    def _begin_immediate(self) -> None:
        """``BEGIN IMMEDIATE``, retried with short jittered sleeps while another writer holds it.

        SQLite's own busy handler sleeps in steps of up to 100 ms, which leaves the lock idle
        most of the time when several processes take turns; polling every few ms keeps it busy.
        """
        conn = self.db.conn
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        delay = 0.0005
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as ex:
                    if "locked" not in str(ex) and "busy" not in str(ex):
                        raise
                    if time.monotonic() > deadline:
                        raise StoreError(
                            f"database {self.path} stayed locked by another writer for "
                            f"{BUSY_TIMEOUT_MS // 1000} s: {ex}"
                        ) from ex
                time.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 0.01)
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    def now(self) -> str:
        """The store clock's current time as UTC ISO 8601 text (what rows record)."""
        return isoformat(self.clock())

    # The dialect seam: every area's SQL runs through these -----------------------------------

    def execute(self, sql: str, params: Sequence = ()) -> int:
        """Run one statement; the number of rows it changed."""
        return self.db.conn.execute(sql, params).rowcount

    def execute_later(self, sql: str, params: Sequence = ()) -> None:
        """Run a statement whose outcome the caller does not read. SQLite runs it now; a
        backend with round trips may send it with the next statement or the commit, and raise
        its error there (the transaction then rolls back)."""
        self.db.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence]) -> int:
        """Run one statement per parameter row; the number of rows changed in total."""
        conn = self.db.conn
        before = conn.total_changes
        conn.executemany(sql, rows)
        return conn.total_changes - before

    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """Every row of a ``SELECT`` (or of a statement with ``RETURNING``)."""
        return self.db.conn.execute(sql, params).fetchall()

    def query_later(self, sql: str, params: Sequence = ()) -> Later:
        """Run a statement whose rows the caller reads after the next round trip (``rows`` of
        the answer). SQLite runs it now; a backend with round trips sends it with the next
        statement or the commit (``execute_later``)."""
        later = Later()
        later.rows = self.query(sql, params)
        return later

    def queries(self, statements: Sequence[tuple[str, Sequence]]) -> list[list[tuple]]:
        """Run ``(sql, params)`` statements in order; the rows of each (as ``query``). SQLite
        runs them one by one; a backend with round trips sends them together, with what
        ``execute_later`` queued (an error raised by one is raised after all were answered,
        and those after it did not run)."""
        conn = self.db.conn
        return [conn.execute(sql, params).fetchall() for sql, params in statements]

    def next_id(self, table: str) -> str:
        """An SQL expression worth the id the next row inserted into ``table`` (keyed by an
        ``INTEGER PRIMARY KEY`` named ``id``) would get, for a statement that numbers rows
        before inserting them. SQLite's is one more than the largest (what its insert takes;
        ``BEGIN IMMEDIATE`` lets no other writer in before the commit); PostgreSQL takes it
        from the table's sequence, unique however many writers run."""
        return f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table})"

    def query_one(self, sql: str, params: Sequence = ()) -> tuple | None:
        """The first row of a ``SELECT``, or None."""
        return self.db.conn.execute(sql, params).fetchone()

    def insert_returning(self, sql: str, params: Sequence = ()):
        """Run an ``INSERT ... RETURNING x``; ``x`` of the row inserted, None when none was
        (``ON CONFLICT DO NOTHING``)."""
        row = self.db.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    # The event log ---------------------------------------------------------------------------

    def event(self, type: str, campaign_id: int | None, payload: dict) -> int:
        """Append an event; call inside the transaction that makes the change it records.

        Returns the event's id. Ids follow commit order: ``BEGIN IMMEDIATE`` lets one writer
        at a time in, so an id is assigned only after every earlier writer committed or rolled
        back, and a later commit never gets a smaller id than an earlier one.
        """
        if not self.in_transaction:
            raise RuntimeError("events are written inside the transaction of their change")
        return self.insert_returning(
            "INSERT INTO events (type, campaign_id, payload, created_at) VALUES (?, ?, ?, ?) "
            "RETURNING id",
            [
                type,
                campaign_id,
                _payload_json(payload),
                self.now(),
            ],
        )

    def events(self, rows: Sequence[tuple[str, int | None, dict | str]]) -> None:
        """Append many ``(type, campaign_id, payload)`` events, in order, in one statement.

        A payload given as text is stored as it is: the caller encoded it as ``event`` encodes
        a dict (sorted keys, ``ensure_ascii=False``), for hot paths that write many.
        """
        if not self.in_transaction:
            raise RuntimeError("events are written inside the transaction of their change")
        now = self.now()
        self.executemany(
            "INSERT INTO events (type, campaign_id, payload, created_at) VALUES (?, ?, ?, ?)",
            [
                (
                    kind,
                    campaign_id,
                    payload if isinstance(payload, str) else _payload_json(payload),
                    now,
                )  # fmt: skip
                for kind, campaign_id, payload in rows
            ],
        )

    def events_since(
        self,
        cursor: int = 0,
        limit: int = 1000,
        campaign_id: int | None = None,
        types: tuple[str, ...] = (),
    ) -> list[Event]:
        """Committed events with id greater than ``cursor``, oldest first, at most ``limit``."""
        where: list[str] = ["id > ?"]
        params: list = [cursor]
        if campaign_id is not None:
            where.append("campaign_id = ?")
            params.append(campaign_id)
        if types:
            where.append(f"type IN ({', '.join('?' for _ in types)})")
            params.extend(types)
        rows = self.query(
            f"SELECT id, type, campaign_id, payload, created_at FROM events "
            f"WHERE {' AND '.join(where)} ORDER BY id LIMIT ?",
            [*params, limit],
        )
        return [Event(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows]

    def last_event_id(self) -> int:
        """The id of the newest committed event, 0 when there is none."""
        return self.query("SELECT COALESCE(MAX(id), 0) FROM events")[0][0]

    def close(self) -> None:
        """Close the connection."""
        self.db.close()
