"""The PostgreSQL store's own parts: the dialect, the event cursor, migrations, ``c2m db``."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from c2m_core import C2M
from c2m_core.cli import make_cli
from c2m_core.store import StoreError, open_store
from c2m_core.store.dialect import POSTGRES, SQLITE, display_target, is_postgres_url


@pytest.mark.parametrize(
    ("portable", "expected"),
    [
        ("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = %s AND c = %s"),
        ("SELECT '?', \"q?\" FROM t WHERE x = ?", "SELECT '?', \"q?\" FROM t WHERE x = %s"),
        ("SELECT 'it''s ?' || ? -- why?\n", "SELECT 'it''s ?' || %s -- why?\n"),
        ("SELECT 5 % 2 WHERE a LIKE 'x%'", "SELECT 5 %% 2 WHERE a LIKE 'x%%'"),
        (
            "SELECT p.authorization, 'authorization' FROM p WHERE user = ?",
            'SELECT p."authorization", \'authorization\' FROM p WHERE "user" = %s',
        ),
    ],
)
def test_placeholders_and_quotes_translate_for_psycopg(portable, expected):
    assert POSTGRES.sql(portable) == expected
    assert SQLITE.sql(portable) == portable


def test_sqlite_types_become_postgres_types_outside_quotes():
    ddl = (
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL, "
        "r REAL, b BLOB, note TEXT DEFAULT 'INTEGER')"
    )
    assert POSTGRES.ddl(ddl) == (
        "CREATE TABLE t (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        "n BIGINT NOT NULL, r DOUBLE PRECISION, b BYTEA, note TEXT DEFAULT 'INTEGER')"
    )


def test_booleans_are_sent_as_integers():
    assert POSTGRES.params([True, False, 2, "x"]) == [1, 0, 2, "x"]


def test_urls_pick_postgres_and_hide_passwords():
    assert is_postgres_url("postgresql://u@h/db") and is_postgres_url("postgres://h/db")
    assert not is_postgres_url("c2m.db") and not is_postgres_url(None)
    assert display_target("postgresql://u:secret@h:5433/db") == "postgresql://u:***@h:5433/db"


def test_event_cursor_never_passes_an_event_still_to_commit(postgres_url):
    """A transaction that started first and commits last: a sequence would give its event the
    smaller id after the reader moved past it; the cursor holds back until it is final."""
    early, late, reader = (open_store(postgres_url) for _ in range(3))
    try:
        with early.transaction():
            early_id = early.event("test.early", None, {})
            with late.transaction():
                late_id = late.event("test.late", None, {})
            assert reader.events_since(0) == []
            assert reader.last_event_id() == 0
        assert early_id < late_id
        assert [e.id for e in reader.events_since(0)] == [early_id, late_id]
        assert reader.last_event_id() == late_id
    finally:
        for store in (early, late, reader):
            store.close()


def test_events_written_by_one_statement_follow_each_other(postgres_url):
    store = open_store(postgres_url)
    with store.transaction():
        first = store.event("test.one", None, {})
        store.execute(
            "INSERT INTO events (type, campaign_id, payload, created_at) "
            "SELECT 'test.many', NULL, '{}', 'now' FROM generate_series(1, 3)"
        )
        last = store.event("test.last", None, {})
    ids = [e.id for e in store.events_since(0)]
    assert ids == sorted(ids) and ids[0] == first and ids[-1] == last and len(set(ids)) == 5
    assert ids == list(range(first, first + 5))
    store.close()


def test_a_failed_transaction_leaves_no_event_and_the_store_usable(postgres_url):
    store = open_store(postgres_url)
    with pytest.raises(RuntimeError, match="later step"), store.transaction():
        store.event("test.lost", None, {})
        raise RuntimeError("a later step failed")
    with store.transaction():
        kept = store.event("test.kept", None, {"n": 1})
    assert [(e.id, e.type) for e in store.events_since(0)] == [(kept, "test.kept")]
    store.close()


def test_migrations_apply_once_and_a_newer_database_is_refused(postgres_url):
    store = open_store(postgres_url)
    applied = store.applied_migrations()
    assert applied and store.pending_migrations() == []
    store.close()
    again = open_store(postgres_url)
    assert again.applied_migrations() == applied
    again.execute(
        "INSERT INTO _c2m_migrations (migration_set, name, applied_at) VALUES (?, ?, ?)",
        ["c2m.core", "m999_future", "2099-01-01"],
    )
    again.close()
    with pytest.raises(StoreError, match="newer c2m"):
        open_store(postgres_url)


def test_c2m_takes_a_postgres_url_from_code_and_environment(postgres_url, monkeypatch):
    with C2M(postgres_url) as app:
        assert app.db_path == postgres_url
        assert app.store.backend == "postgresql"
    monkeypatch.setenv("C2M_DB", postgres_url)
    with C2M() as app:
        assert app.store.backend == "postgresql"


def test_db_check_and_migrate_on_postgres(postgres_url):
    runner = CliRunner()
    result = runner.invoke(make_cli(), ["--db", postgres_url, "db", "check", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["problems"] == [] and report["schema"]["backend"] == "postgresql"
    assert report["schema"]["pending"] == []
    result = runner.invoke(make_cli(), ["--db", postgres_url, "db", "migrate"])
    assert result.exit_code == 0 and "pending: none" in result.output


def test_db_check_finds_a_broken_reference_in_sqlite(tmp_path):
    path = tmp_path / "c2m.db"
    runner = CliRunner()
    assert runner.invoke(make_cli(), ["--db", str(path), "db", "check"]).exit_code == 0
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO campaigns (slug, category, title, currency, stages, settings, state, "
        "catalog_snapshot_id, created_at, updated_at) "
        "VALUES ('x', 'tv', 'X', 'EUR', '[]', '{}', 'draft', 999, 'now', 'now')"
    )
    conn.commit()
    conn.close()
    result = runner.invoke(make_cli(), ["--db", str(path), "db", "check"])
    assert result.exit_code == 1
    assert "campaigns row 1 refers to a missing catalog_snapshots row" in result.output


def _sqlite_with_rows(path) -> dict[str, int]:
    """A SQLite store with rows in several tables (odd text included); its row counts."""
    store = open_store(str(path))
    conn = store.db.conn
    with store.transaction():
        conn.execute(
            "INSERT INTO catalog_snapshots (category, digest, data, created_at) "
            "VALUES ('tv', 'd1', '{\"k\": \"\\u4e2d %s ?\"}', 'now')"
        )
        for n in range(3):
            conn.execute(
                "INSERT INTO campaigns (slug, category, title, currency, stages, settings, "
                "state, catalog_snapshot_id, created_at, updated_at) "
                "VALUES (?, 'tv', ?, 'EUR', '[]', '{}', 'draft', 1, 'now', 'now')",
                [f"c{n}", f"Title 'quoted' %s \\ {n}\ttab"],
            )
        for n in range(5):
            store.event("test.copied", 1, {"n": n})
    counts = {
        table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        for table in ("catalog_snapshots", "campaigns", "events")
    }
    store.close()
    return counts


def test_db_copy_moves_every_row_and_refuses_a_non_empty_target(tmp_path, postgres_url):
    source = tmp_path / "laptop.db"
    counts = _sqlite_with_rows(source)
    runner = CliRunner()
    result = runner.invoke(make_cli(), ["db", "copy", str(source), postgres_url, "--json"])
    assert result.exit_code == 0, result.output
    copied = {t["table"]: t["rows"] for t in json.loads(result.output)}
    for table, count in counts.items():
        assert copied[table] == count
    target = open_store(postgres_url)
    try:
        assert target.query("SELECT slug, title FROM campaigns ORDER BY id") == [
            (f"c{n}", f"Title 'quoted' %s \\ {n}\ttab") for n in range(3)
        ]
        # Ids were kept and new ones continue after them.
        with target.transaction():
            new_id = target.insert_returning(
                "INSERT INTO campaigns (slug, category, title, currency, stages, settings, "
                "state, created_at, updated_at) "
                "VALUES ('new', 'tv', 'N', 'EUR', '[]', '{}', 'draft', 'now', 'now') RETURNING id"
            )
            event_id = target.event("test.after", None, {})
        assert new_id == 4
        assert [e.payload.get("n") for e in target.events_since(0)] == [0, 1, 2, 3, 4, None]
        assert target.events_since(0)[-1].id == event_id
    finally:
        target.close()
    again = runner.invoke(make_cli(), ["db", "copy", str(source), postgres_url])
    assert again.exit_code == 1
    assert "not empty" in again.output and "Traceback" not in again.output


def test_db_copy_wants_a_postgres_url(tmp_path):
    source = tmp_path / "laptop.db"
    _sqlite_with_rows(source)
    result = CliRunner().invoke(make_cli(), ["db", "copy", str(source), str(tmp_path / "b.db")])
    assert result.exit_code == 2 and "postgresql://" in result.output
