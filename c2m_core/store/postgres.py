"""The PostgreSQL store: many application servers on one shared database (psycopg 3).

The areas are the same classes as on SQLite and run the same portable SQL through the base
methods (``execute``, ``query``, ``query_one``, ``insert_returning``, ``executemany``), which
pass it through the ``POSTGRES`` dialect. What differs lives here:

- **Transactions** are PostgreSQL's (``READ COMMITTED``): there is no database-wide write lock,
  so every invariant is enforced by the database (conditional updates, unique constraints, row
  locks), never by a read in Python followed by a write.
- **Migrations** are the areas' own (the same named functions, their DDL translated by the
  dialect), applied once each under a transaction-scoped advisory lock and recorded in
  ``_c2m_migrations`` (migration set, name, time), so that servers starting together migrate once.
- **The event cursor.** Ids from a sequence do not follow commit order under concurrent writers:
  a transaction can take id 7, commit after the one that took id 8, and a reader that already
  moved its cursor past 8 would never see 7. Instead an event's id is its transaction's id
  (``pg_current_xact_id()``) shifted left by ``EVENT_BITS`` plus its position in the transaction,
  and a reader returns only events of transactions older than the oldest one still running
  (the ``xmin`` of its snapshot): those are final, and every transaction still to commit has a
  larger id than any event returned. ``events_since(cursor)`` thus gives every event exactly
  once, with no lock taken by writers: pledges for different variants never wait for each
  other on the event log. The price: a reader does not see an event while a transaction that
  started before it is still open (anywhere on the server); keep transactions short.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

from sqlite_utils.migrations import Migrations

from ..presale.records import OPEN
from .database import Event, Later, Store, StoreError, _payload_json, isoformat, utc_now
from .dialect import _QUOTED, POSTGRES, display_target, postgres_statement

try:
    import psycopg
    from psycopg import pq
    from psycopg.adapt import Dumper, Loader, PyFormat, Transformer
except ImportError as ex:  # pragma: no cover - exercised only without the extra
    raise StoreError("the PostgreSQL store needs psycopg: pip install 'c2m[postgres]'") from ex

#: Bits of an event id that number the events of one transaction (up to 1,048,576 each).
EVENT_BITS = 20
MIGRATIONS_TABLE = "_c2m_migrations"
#: ``pg_advisory_xact_lock`` key held while migrating ("c2m" + "mig" in ASCII).
MIGRATION_LOCK = 0x63326D_6D6967

core_migrations = Migrations("c2m.core")


@core_migrations()
def m001_events(db) -> None:
    # An event's id is its transaction's id and its position in the transaction (counted in a
    # transaction-local setting), assigned by the column default so that an INSERT ... SELECT
    # of many events gets them too.
    db.execute(
        f"""
        CREATE FUNCTION c2m_next_event_id() RETURNS BIGINT LANGUAGE plpgsql AS $$
        DECLARE
            position BIGINT := COALESCE(
                NULLIF(current_setting('c2m.event_position', true), ''), '0')::BIGINT;
        BEGIN
            IF position >= {1 << EVENT_BITS} THEN
                RAISE EXCEPTION 'a transaction may write at most {1 << EVENT_BITS} events'
                    USING HINT = 'split the work into smaller transactions';
            END IF;
            PERFORM set_config('c2m.event_position', (position + 1)::TEXT, true);
            RETURN (pg_current_xact_id()::TEXT::BIGINT << {EVENT_BITS}) + position;
        END
        $$
        """
    )
    db.execute(
        """
        CREATE TABLE events (
            id BIGINT PRIMARY KEY DEFAULT c2m_next_event_id(),
            type TEXT NOT NULL,
            campaign_id BIGINT,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX events_campaign ON events (campaign_id, id)")


@core_migrations()
def m002_event_ids(db) -> None:
    # The event id's position is set by an assignment, which PL/pgSQL evaluates directly,
    # where ``PERFORM`` started an executor per event (the same ids as before).
    db.execute(
        f"""
        CREATE OR REPLACE FUNCTION c2m_next_event_id() RETURNS BIGINT LANGUAGE plpgsql AS $$
        DECLARE
            position BIGINT := COALESCE(
                NULLIF(current_setting('c2m.event_position', true), ''), '0')::BIGINT;
            stored TEXT;
        BEGIN
            IF position >= {1 << EVENT_BITS} THEN
                RAISE EXCEPTION 'a transaction may write at most {1 << EVENT_BITS} events'
                    USING HINT = 'split the work into smaller transactions';
            END IF;
            stored := set_config('c2m.event_position', (position + 1)::TEXT, true);
            RETURN (pg_current_xact_id()::TEXT::BIGINT << {EVENT_BITS}) + position;
        END
        $$
        """
    )


#: Statement texts (with their parameter types) prepared per connection, at most.
MAX_PREPARED = 256
_SUCCEEDED = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)
_BEGIN = (None, b"BEGIN", None, None, None)
_COMMIT = (None, b"COMMIT", None, None, None)
#: Rows of one ``INSERT INTO events`` statement (4 parameters each).
EVENTS_PER_STATEMENT = 256


@functools.lru_cache(maxsize=64)
def _insert_events_sql(rows: int) -> str:
    values = ", ".join(["(?, ?, ?, ?)"] * rows)
    return f"INSERT INTO events (type, campaign_id, payload, created_at) VALUES {values}"


_PLAIN_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)\s*\(", re.IGNORECASE)
_READS_OR_ANSWERS = re.compile(r"\b(SELECT|RETURNING|WITH)\b", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)
def _inserted_table(sql: str) -> str | None:
    """The table a plain ``INSERT INTO t (...) VALUES ...`` writes (one that reads no table and
    answers nothing); None for any other statement."""
    found = _PLAIN_INSERT.match(sql)
    if found is None or _READS_OR_ANSWERS.search(_QUOTED.sub("", sql)):
        return None
    return found.group(1).lower()


@functools.lru_cache(maxsize=256)
def _one_statement(statements: tuple[str, ...]) -> str:
    """Plain inserts into distinct tables as one statement: all but the last as data-modifying
    ``WITH`` parts (placeholders keep their order)."""
    parts = ", ".join(f"c2m_{n} AS ({sql})" for n, sql in enumerate(statements[:-1]))
    return f"WITH {parts} {statements[-1]}"


#: A queued statement: portable SQL, its parameters, where its rows go (None: not read).
_Queued = tuple[str, Sequence, Later | None]


def _merged(queued: list[_Queued]) -> list[_Queued]:
    """Queued statements with each run of plain inserts into distinct tables made one
    statement: one parse, bind and executor start on the server instead of one per insert.

    Safe because such inserts cannot see each other's rows, which is all a ``WITH`` part
    changes: no part reads a table, each writes its own, their foreign keys are checked at
    the end of the statement (after every part inserted), and the rows of one table keep
    their order (the event ids' positions).
    """
    if len(queued) < 2:
        return queued
    merged: list[_Queued] = []
    run: list[_Queued] = []
    tables: set[str] = set()

    def flush() -> None:
        if len(run) == 1:
            merged.append(run[0])
        elif run:
            params: list = []
            for _, values, _ in run:
                params += values
            merged.append((_one_statement(tuple(sql for sql, *_ in run)), params, None))
        run.clear()
        tables.clear()

    for statement in queued:
        table = None if statement[2] is not None else _inserted_table(statement[0])
        if table is None:
            flush()
            merged.append(statement)
            continue
        if table in tables:
            flush()
        run.append(statement)
        tables.add(table)
    flush()
    return merged


class _NumericLoader(Loader):
    """``SUM`` and friends of integer columns return NUMERIC: load whole numbers as ``int``
    (as SQLite gives them) and fractions as ``float``, never ``Decimal``."""

    def load(self, data):
        text = bytes(data).decode()
        return float(text) if "." in text or "e" in text.lower() else int(text)


class _BoolAsIntDumper(Dumper):
    """Python ``bool`` parameters as the integers 0/1 (the columns are integers on both
    backends), dumped by the driver instead of a pass over every statement's parameters."""

    oid = psycopg.postgres.types["int8"].oid

    def dump(self, obj):
        return b"1" if obj else b"0"


def connect(url: str):
    """A psycopg connection in autocommit mode (the store issues ``BEGIN`` itself)."""
    try:
        conn = psycopg.connect(url, autocommit=True, client_encoding="UTF8")
    except psycopg.Error as ex:
        raise StoreError(f"cannot open database {display_target(url)}: {ex}") from ex
    conn.adapters.register_loader("numeric", _NumericLoader)
    conn.adapters.register_dumper(bool, _BoolAsIntDumper)
    return conn


#: The statements an area marks as dialect-specific, as PostgreSQL runs them: area name ->
#: attribute -> SQL. Everything else an area runs is the same text on both backends.
AREA_SQL: dict[str, dict[str, str]] = {
    "wishes": {
        "EVENT_PAYLOAD": (
            "json_build_object('customer', customer, 'external_id', external_id, "
            "'wish_id', id)::text"
        ),
    },
    "presale": {
        "PLEDGES_BY_VARIANT_STATE": "pledges",
        # ``placing_reserve``'s guarded update, checked against what it read before instead
        # of read again; refuses the transaction when it reserved nothing (``c2m_changed``),
        # and takes the next pledge's ids ({numbers}).
        "RESERVE_KNOWN": (
            "WITH reserved AS (UPDATE presale_offers SET held = held + ? "
            "WHERE variant_id = ? AND (capacity IS NULL OR held + ? <= capacity) "
            "AND campaign_id = ? AND currency = ? AND unit_price = ? AND deposit_per_unit = ? "
            "AND credit_per_unit = ? "
            "AND NOT EXISTS (SELECT 1 FROM pledges WHERE campaign_id = ? AND idempotency_key = ?) "
            "AND EXISTS (SELECT 1 FROM presales s JOIN campaigns c ON c.id = s.campaign_id "
            f"WHERE s.campaign_id = ? AND s.state = '{OPEN}' AND s.deadline > ? "
            "AND s.provider = ? AND c.settings = ? AND c.state = ? "
            "AND c.catalog_snapshot_id IS NOT DISTINCT FROM ? AND c.updated_at = ?) "
            "RETURNING 1) "
            "SELECT c2m_changed(COUNT(*)), {numbers} FROM reserved"
        ),
    },
}


class PostgresStore(Store):
    """One PostgreSQL database shared by any number of processes and machines.

    The same ``Store`` with the same areas as on SQLite: this class replaces the dialect seam
    (``execute``, ``executemany``, ``query``, ``query_one``, ``queries``, ``insert_returning``,
    ``next_id`` and the ``FOR_SHARE`` / ``FOR_UPDATE`` / ``MAX_PARAMETERS`` / ``UniqueViolation``
    attributes), transactions, migrations
    and the event log, and sets the few statements an area marks as dialect-specific
    (``AREA_SQL``).

    :param url: ``postgresql://user:password@host:port/dbname`` (libpq URL or options)
    :param areas: the area classes whose migrations to apply and operations to expose
    :param clock: returns the current UTC time (tests pass a fixed clock)
    """

    dialect = POSTGRES
    backend = "postgresql"
    FOR_SHARE = " FOR SHARE"
    FOR_UPDATE = " FOR UPDATE"
    #: The most parameters one statement may bind (the protocol's limit).
    MAX_PARAMETERS = 65_535
    #: Ids come from each table's sequence, drawn from by every writer at once.
    SEQUENTIAL_IDS = False
    UniqueViolation = psycopg.errors.UniqueViolation
    Refused = psycopg.errors.NoDataFound

    def __init__(self, url: str, areas=(), clock: Callable[[], datetime.datetime] = utc_now):
        self.path = display_target(url)
        self.url = url
        self.clock = clock
        self.conn = connect(url)
        #: For ``executemany``: a new cursor per call costs as much as the round trip.
        self._cursor = self.conn.cursor()
        self._transformer = Transformer(self.conn)
        self._prepared: dict[tuple[bytes, tuple[int, ...] | None], bytes] = {}
        self._sequences: dict[str, str] = {}
        self._depth = 0
        self._begin_pending = False
        #: Statements queued by ``execute_later`` and ``query_later``.
        self._later: list[_Queued] = []
        #: Round trips to the server and statements sent through the seam so far (``bench``
        #: reports them per pledge: figures the machine's load cannot move).
        self.round_trips = 0
        self.statements = 0
        self._after_commit: list[Callable[[], object]] = []
        self._areas = [area(self) for area in areas]
        for area in self._areas:
            for attribute, sql in AREA_SQL.get(area.name, {}).items():
                setattr(area, attribute, sql)
            setattr(self, area.name, area)
        self.migrate()

    # -- the base methods every area runs its SQL through -------------------------------------

    def _statement(self, sql: str, params: Sequence) -> tuple:
        """A portable statement ready for libpq: (prepared name or None, text, values, types,
        formats). Prepared once per connection (per text and parameter types, up to
        ``MAX_PREPARED``), then executed by name; psycopg's own adapters dump the values
        (``bool`` as 0/1, as ``POSTGRES.params`` makes it)."""
        query, prepare = postgres_statement(sql)
        transformer = self._transformer
        values = transformer.dump_sequence(params, [PyFormat.AUTO] * len(params))
        types = transformer.types
        key = (query, types)
        name = self._prepared.get(key)
        if name is None and prepare and len(self._prepared) < MAX_PREPARED:
            name = b"c2m_%d" % len(self._prepared)
            self._check(self.conn.pgconn.prepare(name, query, types))
            self._prepared[key] = name
        return name, query, values, types, transformer.formats

    def _run(self, sql: str, params: Sequence = ()):
        """Run a portable statement; its result (``PGresult``), raising on error.

        The statement goes straight through libpq, its rows loaded by psycopg's adapters, as
        its cursor would, at a third of the client time. What is waiting to be sent (the
        transaction's ``BEGIN``, statements queued by ``execute_later``) goes with it, in one
        round trip.
        """
        statement = self._statement(sql, params)
        if self._begin_pending or self._later:
            return self._send_pending([statement])[0]
        name, query, values, types, formats = statement
        pgconn = self.conn.pgconn
        self.round_trips += 1
        self.statements += 1
        if name is None:
            return self._check(pgconn.exec_params(query, values, types, formats))
        return self._check(pgconn.exec_prepared(name, values, formats))

    def _send_pending(self, last: Sequence[tuple] = ()) -> list:
        """Send the pending ``BEGIN``, the queued statements and ``last`` (statements, or
        ``COMMIT``) in one round trip (libpq's pipeline mode); the results of ``last``.

        The first error is raised once every result is read; the statements after it were not
        run, and the transaction is then aborted (the caller rolls it back).
        """
        pgconn = self.conn.pgconn
        queued = _merged(self._later)
        self._later = []
        queue = [self._statement(sql, params) for sql, params, _ in queued]
        if self._begin_pending:
            self._begin_pending = False
            queue.insert(0, _BEGIN)
        queue.extend(last)
        if not queue:
            return []
        self.round_trips += 1
        self.statements += len(queue)
        pgconn.enter_pipeline_mode()
        try:
            for name, query, values, types, formats in queue:
                if name is None:
                    pgconn.send_query_params(query, values, types, formats)
                else:
                    pgconn.send_query_prepared(name, values, formats)
            pgconn.pipeline_sync()
            results = []
            for _ in queue:
                results.append(pgconn.get_result())
                while pgconn.get_result() is not None:
                    pass
            synced = pgconn.get_result()
        finally:
            if pgconn.pipeline_status:
                with contextlib.suppress(psycopg.Error):
                    pgconn.exit_pipeline_mode()
        if synced is None or synced.status != pq.ExecStatus.PIPELINE_SYNC:
            raise psycopg.OperationalError("the server did not answer a pipeline in full")
        for result in results:
            self._check(result)
        first = len(results) - len(last) - len(queued)
        for (*_, later), result in zip(queued, results[first:], strict=False):
            if later is not None:
                later.rows = self._rows(result)
        return results[len(results) - len(last) :]

    def _check(self, result):
        if result is None:
            raise psycopg.OperationalError("no result from the server (connection lost?)")
        if result.status not in _SUCCEEDED:
            raise psycopg.errors.error_from_result(result, encoding=self.conn.info.encoding)
        return result

    def _command(self, command: bytes) -> None:
        """Run ``BEGIN``, ``COMMIT`` or ``ROLLBACK`` (no parameters, no rows)."""
        self.round_trips += 1
        self.statements += 1
        self._check(self.conn.pgconn.exec_(command))

    def _begin_now(self) -> None:
        """Send what is waiting (``BEGIN``, queued statements) before running anything that
        bypasses ``_run``."""
        if self._begin_pending or self._later:
            self._send_pending()

    def execute_later(self, sql: str, params: Sequence = ()) -> None:
        """Run a statement whose outcome the caller does not read, with the next round trip:
        queued, and sent with the next statement or the ``COMMIT`` (an error it raises is
        raised there, and the transaction rolls back). Outside a transaction it runs now."""
        if not self._depth:
            self._run(sql, params)
            return
        self._later.append((sql, params, None))

    def query_later(self, sql: str, params: Sequence = ()) -> Later:
        """Run a statement with the next round trip, as ``execute_later``; its rows are in the
        answer's ``rows`` once that round trip was answered without error. Outside a
        transaction it runs now."""
        later = Later()
        if not self._depth:
            later.rows = self.query(sql, params)
        else:
            self._later.append((sql, params, later))
        return later

    def execute(self, sql: str, params: Sequence = ()) -> int:
        """Run a statement; the number of rows it changed."""
        changed = self._run(sql, params).command_tuples
        return -1 if changed is None else changed

    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        result = self._run(sql, params)
        if not result.ntuples:
            return []
        self._transformer.set_pgresult(result)
        return self._transformer.load_rows(0, result.ntuples, tuple)

    def query_one(self, sql: str, params: Sequence = ()) -> tuple | None:
        result = self._run(sql, params)
        if not result.ntuples:
            return None
        self._transformer.set_pgresult(result)
        return self._transformer.load_row(0, tuple)

    def queries(self, statements: Sequence[tuple[str, Sequence]]) -> list[list[tuple]]:
        """Run ``(sql, params)`` statements in order, in one round trip with what is waiting
        (``BEGIN``, ``execute_later``); the rows of each."""
        results = self._send_pending([self._statement(sql, params) for sql, params in statements])
        return [self._rows(result) for result in results]

    def _rows(self, result) -> list[tuple]:
        if not result.ntuples:
            return []
        self._transformer.set_pgresult(result)
        return self._transformer.load_rows(0, result.ntuples, tuple)

    def next_id(self, table: str) -> str:
        """``nextval`` of the sequence that numbers ``table``'s ids (looked up once per
        connection): unique across every writer, never handed out twice, even by a
        transaction that rolls back."""
        sequence = self._sequences.get(table)
        if sequence is None:  # a catalog read: it may run ahead of a pending BEGIN
            found = self.conn.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = self._sequences[table] = found.fetchone()[0]
        return f"nextval('{sequence}')"

    def insert_returning(self, sql: str, params: Sequence = ()):
        """Run an ``INSERT ... RETURNING x``; the first returned value (None when nothing was
        inserted, as with ``ON CONFLICT DO NOTHING``)."""
        row = self.query_one(sql, params)
        return row[0] if row else None

    def executemany(self, sql: str, rows: Iterable[Sequence]) -> int:
        """Run a statement once per row (pipelined); the total number of rows changed."""
        params = [POSTGRES.params(row) for row in rows]
        if not params:
            return 0
        self._begin_now()
        cursor = self._cursor
        cursor.executemany(POSTGRES.sql(sql), params, returning=False)
        return cursor.rowcount

    # -- migrations --------------------------------------------------------------------------

    def _migration_sets(self) -> list[Migrations]:
        return [core_migrations] + [area.migrations for area in self._areas]

    def applied_migrations(self) -> list[tuple[str, str, str]]:
        """(migration set, name, applied at) of every applied migration, oldest first."""
        self._begin_now()
        if not self._table_exists(MIGRATIONS_TABLE):
            return []
        return [
            tuple(row)
            for row in self.conn.execute(
                f"SELECT migration_set, name, applied_at FROM {MIGRATIONS_TABLE} ORDER BY id"
            ).fetchall()
        ]

    def pending_migrations(self) -> list[tuple[str, str]]:
        applied = {(s, n) for s, n, _ in self.applied_migrations()}
        return [
            (s.name, m.name)
            for s in self._migration_sets()
            for m in s._migrations
            if (s.name, m.name) not in applied
        ]

    def migrate(self) -> None:
        """Apply pending migrations of every area; refuse a database made by a newer c2m."""
        known = {(s.name, m.name) for s in self._migration_sets() for m in s._migrations}
        applied = {(s, n) for s, n, _ in self.applied_migrations()}
        unknown = sorted(f"{s}:{n}" for s, n in applied - known if s.startswith("c2m."))
        if unknown:
            raise StoreError(
                f"database {self.path} was made by a newer c2m (it has migrations this "
                f"version does not know: {', '.join(unknown)}); upgrade c2m to use it"
            )
        if known <= applied:
            return
        with self.transaction():
            self._begin_now()
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
            self.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} ("
                "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                "migration_set TEXT NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL, "
                "UNIQUE (migration_set, name))"
            )
            applied = {(s, n) for s, n, _ in self.applied_migrations()}
            for migration_set in self._migration_sets():
                for migration in migration_set._migrations:
                    if (migration_set.name, migration.name) in applied:
                        continue
                    migration.fn(self)  # type: ignore[arg-type]
                    self.conn.execute(
                        f"INSERT INTO {MIGRATIONS_TABLE} (migration_set, name, applied_at) "
                        "VALUES (%s, %s, %s)",
                        [migration_set.name, migration.name, isoformat(utc_now())],
                    )

    def _table_exists(self, name: str) -> bool:
        self._begin_now()
        row = self.conn.execute("SELECT to_regclass(%s)", [name]).fetchone()
        return row[0] is not None

    # -- transactions and events -------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextmanager
    def transaction(self) -> Iterator[PostgresStore]:
        """A transaction (nested calls join the outer one); committed when the block ends.

        There is no database-wide lock as with SQLite's ``BEGIN IMMEDIATE``: reads inside see
        what was committed when each statement started, and the operations that guard an
        invariant do so in one conditional statement or under a row lock.
        """
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self._after_commit.clear()
        self._begin_pending = True  # sent with the first statement (see ``_run``)
        self._depth = 1
        try:
            yield self
            self._depth = 0
            if self._later and self._begin_pending:
                # Nothing ran before: the queued statements alone, without BEGIN and COMMIT.
                # A pipeline outside a transaction block is one transaction that commits at
                # its sync, or rolls back whole when a statement fails.
                self._begin_pending = False
                self._send_pending()
            elif self._later:  # the queued statements and the COMMIT: one round trip
                self._send_pending([_COMMIT])
            elif self._begin_pending:  # nothing ran: nothing to commit
                self._begin_pending = False
            else:
                self._command(b"COMMIT")
        except BaseException:
            self._depth = 0
            self._begin_pending = False
            self._later = []
            self._after_commit.clear()
            if not self.conn.closed and self.conn.info.transaction_status != 0:
                self._command(b"ROLLBACK")
            raise
        self._run_after_commit()

    def events(self, rows: Sequence[tuple[str, int | None, dict | str]]) -> None:
        """Append many ``(type, campaign_id, payload)`` events, in order: one multi-row
        ``INSERT`` per ``EVENTS_PER_STATEMENT``, sent with the next statement or the commit
        (``execute_later``). A payload given as text is stored as it is (see
        ``Store.events``)."""
        if not self.in_transaction:
            raise RuntimeError("events are written inside the transaction of their change")
        now = self.now()
        for start in range(0, len(rows), EVENTS_PER_STATEMENT):
            chunk = rows[start : start + EVENTS_PER_STATEMENT]
            params: list = []
            for type, campaign_id, payload in chunk:
                text = payload if isinstance(payload, str) else _payload_json(payload)
                params += (type, campaign_id, text, now)
            self.execute_later(_insert_events_sql(len(chunk)), params)

    _VISIBLE = f"(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << {EVENT_BITS})"

    def events_since(
        self,
        cursor: int = 0,
        limit: int = 1000,
        campaign_id: int | None = None,
        types: tuple[str, ...] = (),
    ) -> list[Event]:
        """Events after ``cursor``, oldest first: each exactly once to a reader that follows
        the ids it gets (see the module's docstring)."""
        where: list[str] = [f"id > %s AND id < {self._VISIBLE}"]
        params: list = [cursor]
        if campaign_id is not None:
            where.append("campaign_id = %s")
            params.append(campaign_id)
        if types:
            where.append("type = ANY(%s)")
            params.append(list(types))
        self._begin_now()
        rows = self.conn.execute(
            f"SELECT id, type, campaign_id, payload, created_at FROM events "
            f"WHERE {' AND '.join(where)} ORDER BY id LIMIT %s",
            [*params, limit],
        ).fetchall()
        return [Event(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows]

    def last_event_id(self) -> int:
        self._begin_now()
        return self.conn.execute(
            f"SELECT COALESCE(MAX(id), 0) FROM events WHERE id < {self._VISIBLE}"
        ).fetchone()[0]

    def close(self) -> None:
        if not self.conn.closed:
            self.conn.close()
